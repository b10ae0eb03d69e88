import { join } from 'node:path';
import { LOCAL_EMULATOR_PORTS, RETENTION, SERVICE_NAMES, SERVICE_PORTS } from '@filesync/resources';
import { acquireLock, StackAlreadyRunningError } from './lock';
import { parsePortOffset, shiftStackPorts, type StackPorts } from './port-offset';
import { PortInUseError } from './ports';
import { consoleSink, type LogSink } from './processes';
import { repoRoot } from './repo';
import { buildClient, buildServices } from './services';
import { startStack, type RunningStack } from './stack';

// moto logs every request; successful ones would drown the services' own lines.
const MOTO_SUCCESS_LINE = /HTTP\/[\d.]+" [1-3]\d\d\b/;
const quietSink: LogSink = (name, line) => {
  if (name === 'moto' && MOTO_SUCCESS_LINE.test(line)) return;
  consoleSink(name, line);
};

function describe(stack: RunningStack, seconds: string, portOffset: number): string {
  const { emulators, services, metrics } = stack.endpoints;
  const rows = [
    ['moto (S3, STS, IAM, SQS)', emulators.moto],
    ['DynamoDB Local', emulators.dynamodb],
    ['SES (aws-ses-v2-local)', emulators.ses],
    ...SERVICE_NAMES.map((name) => [
      `${name} gRPC`,
      `${services[name]}  (metrics :${metrics[name]}/metrics)`,
    ]),
  ];
  const width = Math.max(...rows.map(([label]) => (label as string).length));
  return [
    `filesync local stack is up in ${seconds} s`,
    ...rows.map(([label, where]) => `  ${(label as string).padEnd(width)}  ${where}`),
    `  ${'mailbox'.padEnd(width)}  ${stack.mailboxUrl}`,
    '',
    // The CA's absolute path: a client runs from anywhere, where a relative one names nothing.
    stack.caFile
      ? `TLS: clients pass --server ${stack.server} --ca ${stack.caFile}\n` +
        `  (or FILESYNC_SERVER=${stack.server} FILESYNC_CA=${stack.caFile}). Ctrl-C stops everything.`
      : `Clients: FILESYNC_SERVER=${stack.server}${portOffset === 0 ? ' (the default)' : ' (or --server)'}. Ctrl-C stops everything.`,
    '',
  ].join('\n');
}

/** `npm start`'s highest offset: its last service port (50051 + 4 x offset) stays below 65536. */
export const MAX_PORT_OFFSET = 3000;

export interface StartArguments {
  readonly tls: boolean;
  /** Every port shifted (shiftStackPorts), so the stack runs beside another checkout's or the tests'. */
  readonly portOffset: number;
}

/**
 * `npm start -- [--tls] [--port-offset N]`; anything else is refused rather than ignored (a
 * RangeError saying what is taken).
 */
export function parseArguments(args: readonly string[]): StartArguments {
  let tls = false;
  let portOffset = 0;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === '--tls') tls = true;
    else if (arg === '--port-offset' || arg.startsWith('--port-offset=')) {
      const value = arg === '--port-offset' ? args[++index] : arg.slice('--port-offset='.length);
      portOffset = parsePortOffset(value ?? '', '--port-offset', MAX_PORT_OFFSET);
    } else {
      throw new RangeError(`unknown option ${arg} (the options are --tls and --port-offset N)`);
    }
  }
  return { tls, portOffset };
}

/** The ports of `npm start` at `offset`. */
export function startPorts(offset: number): StackPorts {
  return shiftStackPorts(
    {
      basePort: SERVICE_PORTS.auth.grpc,
      metricsBasePort: SERVICE_PORTS.auth.metrics,
      emulatorPorts: LOCAL_EMULATOR_PORTS,
    },
    offset,
  );
}

/**
 * `npm start`: the whole stack on the default ports until Ctrl-C or SIGTERM; `npm start -- --tls`
 * serves the services over TLS with a CA of its own in .local/tls (made once, reused while valid);
 * `--port-offset N` shifts every port (startPorts).
 */
export async function main(): Promise<void> {
  let options: StartArguments;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`npm start: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const { tls, portOffset } = options;
  const started = Date.now();
  const stateDir = join(repoRoot(), '.local');
  let release: (() => void) | undefined;
  let starting: Promise<RunningStack> | undefined;
  let stopping = false;
  // The children run in their own process groups, so Ctrl-C reaches only us: stop them here,
  // also when it comes while they are still starting.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the filesync local stack\n`);
    const stack = await starting?.catch(() => undefined);
    await stack?.stop();
    release?.();
    process.exit(0);
  };
  try {
    release = acquireLock(join(stateDir, 'stack.lock'));
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
    // Built only once the lock is ours, so a second `npm start` never rewrites running bundles.
    // The CLI too: the walkthrough's `npx filesync` then runs its bundle.
    process.stdout.write(`${(await Promise.all([buildServices(), buildClient()])).join('\n')}\n`);
    starting = startStack({
      ...startPorts(portOffset),
      stateDir,
      persistent: true,
      tls,
      sink: quietSink,
      ...(process.env.FILESYNC_LOG_LEVEL ? { logLevel: process.env.FILESYNC_LOG_LEVEL } : {}),
      // The services do not inherit FILESYNC_* variables: the deployment settings are passed on by name.
      ...(process.env[RETENTION.envVar] !== undefined
        ? { retentionDays: process.env[RETENTION.envVar] }
        : {}),
    });
    const stack = await starting;
    if (!stopping)
      process.stdout.write(describe(stack, ((Date.now() - started) / 1000).toFixed(1), portOffset));
  } catch (error) {
    if (stopping) return;
    release?.();
    if (error instanceof StackAlreadyRunningError || error instanceof PortInUseError) {
      process.stderr.write(`npm start: ${error.message}\n`);
      process.exit(3);
    }
    process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
