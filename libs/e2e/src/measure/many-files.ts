import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClient, buildServices, repoRoot, startStack, type RunningStack } from '@filesync/local-stack';

const MiB = 1024 * 1024;

/** Ports apart from `npm start`, the test tiers and the bench, so all can run at once. */
const PORTS = { basePort: 24051, emulatorPorts: { moto: 15466, dynamodb: 19600, ses: 19605 } };

interface Timed {
  readonly seconds: number;
  /** Peak resident set of the process (VmHWM), MiB; 0 when not sampled. */
  readonly peakMiB: number;
  readonly stdout: string;
}

/**
 * Runs a command and samples /proc/<pid>/status until it exits; VmHWM only grows, so the last
 * sample is the process's peak (the CLI runs as that one process: tsx loads in-process).
 */
async function measured(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    // FILESYNC_LOG_LEVEL=debug shows where a pass spends its time.
    process.stderr.write(chunk);
  });
  let peakKiB = 0;
  const sample = async () => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    peakKiB = Math.max(peakKiB, hwm);
  };
  const timer = setInterval(() => void sample(), 100);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  return { seconds, peakMiB: peakKiB / 1024, stdout };
}

function filesyncArgs(
  stack: RunningStack,
  home: string,
  args: string[],
): [string, string[], NodeJS.ProcessEnv] {
  return [
    join(repoRoot(), 'node_modules/.bin/filesync'),
    ['--server', stack.server, '--home', home, ...args],
    { ...process.env, FILESYNC_PASSWORD: 'measure-password-123' },
  ];
}

function rcloneEnv(stack: RunningStack): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RCLONE_CONFIG_M_TYPE: 's3',
    RCLONE_CONFIG_M_PROVIDER: 'Other',
    RCLONE_CONFIG_M_ACCESS_KEY_ID: 'test',
    RCLONE_CONFIG_M_SECRET_ACCESS_KEY: 'test',
    RCLONE_CONFIG_M_ENDPOINT: stack.endpoints.emulators.moto,
    RCLONE_CONFIG_M_REGION: 'us-east-1',
    RCLONE_CONFIG_M_FORCE_PATH_STYLE: 'true',
  };
  delete env.AWS_CA_BUNDLE;
  return env;
}

/** `files` random files of 1-16 KiB in folders of 1,000; returns their bytes. */
async function writeSmallFiles(root: string, files: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < files; i++) {
    const folder = join(root, `d${String(Math.floor(i / 1000)).padStart(3, '0')}`);
    if (i % 1000 === 0) await mkdir(folder, { recursive: true });
    const size = 1024 + Math.floor(Math.random() * 15 * 1024);
    await writeFile(join(folder, `file-${String(i).padStart(6, '0')}.bin`), randomBytes(size));
    total += size;
  }
  return total;
}

/**
 * Many small files, one run against one local stack: the first sync and the second device's
 * download with the CLI (seconds, storage reads, peak RSS of the CLI process), beside
 * `rclone copy --transfers 16` downloading the same files from the same endpoint.
 * Usage: node libs/e2e/bin/many-files.mjs [files=10000] [--no-rclone]
 */
export async function main(args: readonly string[]): Promise<void> {
  const files = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 10_000);
  const withRclone = !args.includes('--no-rclone');
  await Promise.all([buildServices(), buildClient()]);
  const work = await mkdtemp(join(tmpdir(), 'filesync-many-'));
  const stack = await startStack({
    ...PORTS,
    stateDir: join(work, 'state'),
    sink: () => {},
    logLevel: 'warn',
  });
  try {
    const folder = join(work, 'folder');
    const bytes = await writeSmallFiles(folder, files);
    const rows: string[] = [
      '| what | seconds | files/s | MiB/s | peak RSS MiB | detail |',
      '| --- | ---: | ---: | ---: | ---: | --- |',
    ];
    const row = (what: string, timed: Timed, detail = '') =>
      rows.push(
        `| ${what} | ${timed.seconds.toFixed(1)} | ${(files / timed.seconds).toFixed(0)} | ${(bytes / MiB / timed.seconds).toFixed(1)} | ${timed.peakMiB ? timed.peakMiB.toFixed(0) : ''} | ${detail} |`,
      );
    const one = join(work, 'home-1');
    const two = join(work, 'home-2');
    await measured(...filesyncArgs(stack, one, ['signup', '--email', 'many@example.com', '--device', 'one']));
    await measured(...filesyncArgs(stack, two, ['login', '--email', 'many@example.com', '--device', 'two']));

    const up = await measured(...filesyncArgs(stack, one, ['sync', folder, '--json']));
    row(`filesync first sync, ${files} files of 1-16 KiB`, up);
    const downFolder = join(work, 'device-2');
    const down = await measured(...filesyncArgs(stack, two, ['sync', downFolder, '--json', '--create']));
    const summary = JSON.parse(down.stdout) as { filesDownloaded: number; downloadRequests?: number };
    row(
      'filesync second device downloads them',
      down,
      `files ${summary.filesDownloaded}, storage GETs ${summary.downloadRequests ?? '?'}`,
    );
    if (withRclone) {
      const env = rcloneEnv(stack);
      const remote = `m:${stack.resources.bucket}/measure-rclone`;
      await measured('rclone', ['copy', folder, remote, '--transfers', '16'], env);
      const copied = await measured(
        'rclone',
        ['copy', remote, join(work, 'rclone-down'), '--transfers', '16'],
        env,
      );
      row('rclone copy --transfers 16 downloads them', copied);
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await stack.stop();
    await rm(work, { recursive: true, force: true });
  }
}
