// What the benchmarks share: their ports, the peers' environment, the machine they ran on.
import { execFile } from 'node:child_process';
import type { WriteStream } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidArgumentError } from 'commander';
import { repoRoot, startStack } from '@filesync/local-stack';
import { measure, type CommandCost } from './measure';
import { MotoRequestLog } from './moto-requests';

const run = promisify(execFile);

/**
 * Apart from `npm start`, the test tiers, `npm run bench` and `npm run bench:login`, so all can
 * run at once; `--port-offset` shifts them all. Below 32768, Linux's ephemeral range.
 */
export const PORTS = { basePort: 23251, emulators: { moto: 16766, dynamodb: 19300, ses: 19305 } };

/** The peers' bucket, apart from filesync's, so no tool lists or counts another's objects. */
export const PEER_BUCKET = 'filesync-bench';
export const PASSWORD = 'bench-password-123';

export const say = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

export async function quiet(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 30_000 });
    return `${stdout}${stderr}`.trim().split('\n')[0] ?? '';
  } catch {
    return 'unknown';
  }
}

export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  readonly loadAtStart: readonly number[];
  loadAtEnd?: readonly number[];
}

export function machineNow(): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1),
    freeMemoryGiB: +(freemem() / 1024 ** 3).toFixed(1),
    loadAtStart: loadavg().map((load) => +load.toFixed(2)),
  };
}

/** The environment of the peer tools: dummy keys, no user config, so their defaults apply. */
export function peerEnv(work: string, moto: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(work, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'),
    RCLONE_CONFIG: join(work, 'no-rclone.conf'),
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: 'test',
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: 'test',
    RCLONE_CONFIG_BENCH_ENDPOINT: moto,
    RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
  };
  // A CA bundle meant for real AWS makes rclone refuse plain-HTTP moto's config; it needs none.
  delete env.AWS_CA_BUNDLE;
  delete env.AWS_PROFILE;
  delete env.AWS_ENDPOINT_URL;
  return env;
}

export const TOOLS = ['filesync', 'aws', 'rclone'] as const;
export type Tool = (typeof TOOLS)[number];

/** `--tools a,b`: a subset of TOOLS. */
export function parseTools(text: string): Tool[] {
  const tools = text.split(',').map((tool) => tool.trim());
  for (const tool of tools) {
    if (!(TOOLS as readonly string[]).includes(tool)) {
      throw new InvalidArgumentError(`unknown tool "${tool}"; known: ${TOOLS.join(', ')}`);
    }
  }
  return tools as Tool[];
}

/** What a report says it measured: the commit (and whether the tree had changes), the peers' versions. */
export async function runInfo(): Promise<{ commit: string; dirty: boolean; aws: string; rclone: string }> {
  const root = repoRoot();
  const [commit, dirty, aws, rclone] = await Promise.all([
    quiet('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
    quiet('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']).then((out) => out !== ''),
    quiet('aws', ['--version']),
    quiet('rclone', ['version']),
  ]);
  return { commit, dirty, aws, rclone };
}

/**
 * The bench stack on PORTS shifted by `offset`, its logs in `stackLog`, with S3 requests to the
 * peers' bucket and filesync's counted at moto (`log`).
 */
export async function startBenchStack(offset: number, work: string, stackLog: WriteStream) {
  // filesync's bucket joins once the stack says its name; nothing touches S3 before that.
  const buckets = new Set([PEER_BUCKET]);
  const motoPort = PORTS.emulators.moto + offset;
  const log = new MotoRequestLog(`http://127.0.0.1:${motoPort}`, buckets);
  const stack = await startStack({
    basePort: PORTS.basePort + offset,
    emulatorPorts: {
      moto: motoPort,
      dynamodb: PORTS.emulators.dynamodb + offset,
      ses: PORTS.emulators.ses + offset,
    },
    stateDir: join(work, 'state'),
    sink: (name, line) => {
      if (name === 'moto') log.observe(line);
      stackLog.write(`[${name}] ${line}\n`);
    },
    logLevel: 'warn',
  });
  buckets.add(stack.resources.bucket);
  return { stack, log };
}

/**
 * The parsed command line, or undefined with the exit code set: 2 and the message for a bad
 * option (commander has already printed its own usage errors and --help, with their codes).
 */
export function parsedOrExit<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    process.exitCode = code ?? 2;
    if (code === undefined) process.stderr.write(`${(error as Error).message}\n`);
    return undefined;
  }
}

/** A simulated device of a benchmark: its FILESYNC_HOME and its synced folder. */
export interface BenchDevice {
  readonly home: string;
  readonly folder: string;
}

/**
 * The bundled CLI as users run it (node_modules/.bin/filesync, Node 24 first on PATH) against
 * `server`, for devices whose homes and folders live below `work`.
 */
export function benchCli(server: string, work: string) {
  const bin = join(repoRoot(), 'node_modules', '.bin', 'filesync');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter),
    FILESYNC_PASSWORD: PASSWORD,
  };
  return {
    bin,
    env,
    device: (name: string): BenchDevice => ({ home: join(work, `${name}-home`), folder: join(work, name) }),
    /** One command of the device whose home is `home`, measured (see measure). */
    cli: (home: string, args: readonly string[]): Promise<CommandCost> =>
      measure(bin, ['--server', server, '--home', home, ...args], env),
  };
}
