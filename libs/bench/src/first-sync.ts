import { execFile } from 'node:child_process';
import { open, mkdtemp, rm, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildClient, buildServices, repoRoot, startStack, type RunningStack } from '@filesync/local-stack';
import { acceptanceDataset, writeDataset } from './dataset';

const run = promisify(execFile);
const MiB = 1024 * 1024;

/**
 * Ports apart from `npm start` and the test tiers, so all can run at once; below 32768, Linux's
 * ephemeral range, where an outgoing connection may hold a port when we bind it.
 */
const BENCH_PORTS = { basePort: 23051, emulatorPorts: { moto: 16566, dynamodb: 19100, ses: 19105 } };

interface Measurement {
  readonly name: string;
  /** Wall seconds of each repetition. */
  readonly seconds: readonly number[];
  readonly bytes: number;
  readonly detail?: string;
}

/** Repetitions of every timed command: the emulators are noisy, the median is reported. */
const REPETITIONS = Number(process.env.FILESYNC_BENCH_REPETITIONS ?? 3);

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = process.hrtime.bigint();
  const result = await work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, result };
}

/** The CLI exactly as a user runs it, so the figure includes start-up and hashing. */
function filesync(stack: RunningStack, home: string, args: string[]) {
  const bin = join(repoRoot(), 'node_modules/.bin/filesync');
  return run(bin, ['--server', stack.server, '--home', home, ...args], {
    env: { ...process.env, FILESYNC_PASSWORD: 'bench-password-123' },
    maxBuffer: 16 * MiB,
  });
}

async function filesyncSync(stack: RunningStack, home: string, dir: string) {
  // --create: the second device's folder is new, and a missing folder is otherwise an error.
  const { stdout } = await filesync(stack, home, ['sync', dir, '--json', '--create']);
  return JSON.parse(stdout) as { uploadedBytes: number; downloadedBytes: number; uploadedBlocks: number };
}

function awsEnv(stack: RunningStack) {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: stack.endpoints.emulators.moto,
  };
}

async function awsCp(stack: RunningStack, source: string, target: string, recursive: boolean) {
  const args = ['s3', 'cp', source, target, '--only-show-errors', ...(recursive ? ['--recursive'] : [])];
  await run('aws', args, { env: awsEnv(stack), maxBuffer: 16 * MiB });
}

async function rcloneCopy(stack: RunningStack, source: string, target: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: 'test',
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: 'test',
    RCLONE_CONFIG_BENCH_ENDPOINT: stack.endpoints.emulators.moto,
    RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
  };
  delete env.AWS_CA_BUNDLE;
  await run('rclone', ['copy', source, `bench:${target}`, '--transfers', '8'], { env, maxBuffer: 16 * MiB });
}

async function flipByte(file: string, offset: number) {
  const handle = await open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

async function rsyncDeltaBytes(before: string, after: string): Promise<number> {
  const { stdout } = await run('rsync', ['-a', '--no-whole-file', '--stats', `${after}/`, `${before}/`]);
  const sent = /Total bytes sent: ([\d,]+)/.exec(stdout)?.[1];
  return Number(sent?.replaceAll(',', '') ?? NaN);
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function table(rows: readonly Measurement[]): string {
  const lines = [
    `| what | median s | min-max s | MiB | MiB/s (median) | detail |`,
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    const mib = row.bytes / MiB;
    if (row.seconds.length === 0) {
      lines.push(`| ${row.name} | | | ${mib.toFixed(2)} | | ${row.detail ?? ''} |`);
      continue;
    }
    const mid = median(row.seconds);
    const range = `${Math.min(...row.seconds).toFixed(2)}-${Math.max(...row.seconds).toFixed(2)}`;
    lines.push(
      `| ${row.name} | ${mid.toFixed(2)} | ${range} | ${mib.toFixed(1)} | ${(mib / mid).toFixed(1)} | ${row.detail ?? ''} |`,
    );
  }
  return lines.join('\n');
}

async function repeat(work: (round: number) => Promise<void>): Promise<number[]> {
  const seconds: number[] = [];
  for (let round = 0; round < REPETITIONS; round++) seconds.push((await timed(() => work(round))).seconds);
  return seconds;
}

/**
 * Issue 2's figures in one run against one local endpoint: the first sync of the acceptance
 * folder and the 50 MiB file with `filesync`, beside `aws s3 cp` and `rclone copy` of the same
 * bytes, then the bytes a one-byte edit of the 50 MiB file uploads, beside rsync's delta.
 */
export async function main(): Promise<void> {
  await Promise.all([buildServices(), buildClient()]);
  const work = await mkdtemp(join(tmpdir(), 'filesync-bench-'));
  const stack = await startStack({
    ...BENCH_PORTS,
    stateDir: join(work, 'state'),
    sink: () => {},
    logLevel: 'warn',
  });
  try {
    const folder = join(work, 'folder');
    const files = acceptanceDataset();
    const total = await writeDataset(folder, files);
    const big = files.find((file) => file.size === 50 * MiB)!;
    const bigOnly = join(work, 'big-only');
    await cp(join(folder, big.path), join(bigOnly, 'video-50MiB.bin'), { recursive: true });

    const rows: Measurement[] = [];
    // Services and DynamoDB Local (a JVM) are warmed up first, as they are in production: the
    // first request of each would otherwise be charged to whichever command runs first.
    const warmUp = join(work, 'warm-up');
    await writeDataset(
      join(warmUp, 'folder'),
      acceptanceDataset().filter((file) => file.size < MiB),
    );
    await filesync(stack, join(warmUp, 'home'), ['signup', '--email', 'warm-up@example.com']);
    await filesyncSync(stack, join(warmUp, 'home'), join(warmUp, 'folder'));

    // Every round signs up a new account (a new namespace), so no round reuses another's blocks.
    let account = 0;
    const freshHome = async () => {
      const home = join(work, `home-${++account}`);
      await filesync(stack, home, ['signup', '--email', `bench-${account}@example.com`, '--device', 'bench']);
      return home;
    };
    const homes: string[] = [];
    for (let round = 0; round < REPETITIONS; round++) homes.push(await freshHome());
    let uploadedBlocks = 0;
    rows.push({
      name: `filesync sync, first sync of ${files.length} files`,
      seconds: await repeat(async (round) => {
        uploadedBlocks = (await filesyncSync(stack, homes[round]!, folder)).uploadedBlocks;
      }),
      bytes: total,
      detail: `uploadedBlocks ${uploadedBlocks}`,
    });
    rows.push({
      name: 'aws s3 cp --recursive, same folder',
      seconds: await repeat((round) =>
        awsCp(stack, folder, `s3://filesync-blocks/bench/awscli-${round}/`, true),
      ),
      bytes: total,
    });
    rows.push({
      name: 'rclone copy, same folder',
      seconds: await repeat((round) => rcloneCopy(stack, folder, `filesync-blocks/bench/rclone-${round}`)),
      bytes: total,
    });

    const device2Homes: string[] = [];
    for (let round = 0; round < REPETITIONS; round++) {
      const home = join(work, `device2-${round}`);
      await filesync(stack, home, [
        'login',
        '--email',
        `bench-${round + 1}@example.com`,
        '--device',
        'bench-2',
      ]);
      device2Homes.push(home);
    }
    rows.push({
      name: 'filesync sync, second device downloads the folder',
      seconds: await repeat((round) =>
        filesyncSync(stack, device2Homes[round]!, join(work, `device2-folder-${round}`)).then(
          () => undefined,
        ),
      ),
      bytes: total,
    });

    const bigHomes: string[] = [];
    for (let round = 0; round < REPETITIONS; round++) bigHomes.push(await freshHome());
    rows.push({
      name: 'filesync sync, the 50 MiB file alone',
      seconds: await repeat((round) => filesyncSync(stack, bigHomes[round]!, bigOnly).then(() => undefined)),
      bytes: big.size,
    });
    rows.push({
      name: 'aws s3 cp, the 50 MiB file',
      seconds: await repeat((round) =>
        awsCp(stack, join(bigOnly, 'video-50MiB.bin'), `s3://filesync-blocks/bench/big-${round}.bin`, false),
      ),
      bytes: big.size,
    });

    const device1 = homes[0]!;
    const rsyncCopy = join(work, 'rsync-copy');
    await cp(folder, rsyncCopy, { recursive: true });
    await flipByte(join(folder, big.path), Math.floor(big.size / 2));
    const delta = await timed(() => filesyncSync(stack, device1, folder));
    const rsyncBytes = await rsyncDeltaBytes(rsyncCopy, folder);
    rows.push({
      name: 'filesync sync after a one-byte edit of the 50 MiB file',
      seconds: [delta.seconds],
      bytes: delta.result.uploadedBytes,
      detail: `uploadedBytes ${delta.result.uploadedBytes}, uploadedBlocks ${delta.result.uploadedBlocks}`,
    });
    rows.push({
      name: 'rsync --no-whole-file, same edit (bytes sent)',
      seconds: [],
      bytes: rsyncBytes,
      detail: `${rsyncBytes} bytes`,
    });

    process.stdout.write(`${table(rows)}\n`);
  } finally {
    await stack.stop();
    await rm(work, { recursive: true, force: true });
  }
}
