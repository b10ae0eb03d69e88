import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { callMetadata, metadata, unary } from '@filesync/contracts';
import {
  buildServices,
  freePort,
  servicePorts,
  startServiceReplica,
  startStack,
  type ManagedProcess,
} from '@filesync/local-stack';
import { as, connectStubs, EMPTY_CONTENT, signUp, streamReader } from '@filesync/test-support';
import { machineNow, parsedOrExit, say } from './bench-env';

/** Apart from `npm start`, the test tiers and the other benches, so all can run at once. */
const PORTS = { basePort: 23451, emulators: { moto: 16966, dynamodb: 19500, ses: 19505 } };

export interface PushBenchOptions {
  readonly commits: number;
  readonly warmup: number;
  readonly portOffset: number;
}

function parseCount(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return value;
}

export function parsePushOptions(argv: readonly string[]): PushBenchOptions {
  const program = new Command('bench:push')
    .description(
      'Push across metadata tasks: commits through one metadata process, the entries received by ' +
        'WatchChanges streams on a second process (fan-out through SNS and a queue per task) and ' +
        'on the committing one (in-process wake-up).',
    )
    .addOption(
      new Option('--commits <n>', 'measured commits, one at a time').default(200).argParser(parseCount),
    )
    .addOption(new Option('--warmup <n>', 'commits before measuring').default(10).argParser(parseCount))
    .addOption(
      new Option('--port-offset <n>', 'shift every port of the bench stack')
        .default(Number(process.env.FILESYNC_BENCH_PORT_OFFSET ?? 0))
        .argParser((text) => Number(text)),
    )
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  return program.opts<PushBenchOptions>();
}

/** The value at quantile `q` (nearest rank) of ascending `sorted`. */
const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

function row(label: string, values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const ms = (value: number) => value.toFixed(1);
  return `| ${label} | ${sorted.length} | ${ms(quantile(sorted, 0.5))} | ${ms(quantile(sorted, 0.99))} | ${ms(sorted.at(-1)!)} |`;
}

/**
 * Issue 8's push latency: `--commits` commits of one empty file each through task A (the stack's
 * metadata), one after another; for each, the time from sending the commit until a WatchChanges
 * stream on task B (a second metadata process) received its entry, and the same for a stream on
 * task A. Prints p50, p99 and max in milliseconds.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const options = parsedOrExit(() => parsePushOptions(argv));
  if (!options) return;
  const machine = machineNow();
  say('building the services');
  await buildServices();
  const work = await mkdtemp(join(tmpdir(), 'filesync-bench-push-'));
  const basePort = PORTS.basePort + options.portOffset;
  say('starting the stack');
  const stack = await startStack({
    basePort,
    emulatorPorts: {
      moto: PORTS.emulators.moto + options.portOffset,
      dynamodb: PORTS.emulators.dynamodb + options.portOffset,
      ses: PORTS.emulators.ses + options.portOffset,
    },
    stateDir: join(work, 'state'),
    sink: () => {},
    logLevel: 'warn',
  });
  let replica: ManagedProcess | undefined;
  const stubs = connectStubs(stack.endpoints);
  let taskB: metadata.MetadataServiceClient | undefined;
  try {
    const grpcPort = await freePort();
    say('starting a second metadata process');
    replica = await startServiceReplica('metadata', {
      grpcPort,
      ports: servicePorts(basePort),
      emulators: stack.endpoints.emulators,
      resources: stack.resources,
      signingKey: '',
      sink: () => {},
      logLevel: 'warn',
    });
    taskB = new metadata.MetadataServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    const session = await signUp(stubs, 'bench-push');
    const namespaceId = session.rootNamespaceId;
    const open = (client: metadata.MetadataServiceClient) => {
      const reader = streamReader(
        client.watchChanges({ namespaceId, afterCursor: 0 }, callMetadata(session.accessToken)),
      );
      return reader;
    };
    const onB = open(taskB);
    const onA = open(stubs.metadata);
    await Promise.all([onB.next(), onA.next()]); // the opening heartbeats: both streams are up

    /** Resolves with the ms from `start` until `reader` received the entry of `seq`. */
    const arrival = async (reader: ReturnType<typeof open>, seq: number, start: number) => {
      for (;;) {
        const message = await reader.next(30_000);
        if (message.entries.some((entry) => entry.seq === seq)) return performance.now() - start;
      }
    };
    const remote: number[] = [];
    const local: number[] = [];
    const commitTimes: number[] = [];
    say(`${options.warmup} warm-up commits, then ${options.commits} measured`);
    for (let index = 0; index < options.warmup + options.commits; index += 1) {
      const start = performance.now();
      // The expected sequence is the next one: the namespace sees only these commits.
      const seq = index + 1;
      const [response, fromB, fromA] = await Promise.all([
        unary(
          stubs.metadata.commitFiles.bind(stubs.metadata),
          {
            namespaceId,
            changes: [
              {
                path: `push/${index}.txt`,
                baseVersion: 0,
                content: EMPTY_CONTENT,
                delete: false,
                modifiedAtMs: Date.now(),
                moveFrom: '',
                moveFromBaseVersion: 0,
              },
            ],
            confirmMassDelete: false,
          },
          as(session),
        ).then((answer) => ({ answer, ms: performance.now() - start })),
        arrival(onB, seq, start),
        arrival(onA, seq, start),
      ]);
      if (response.answer.cursor !== seq)
        throw new Error(`commit ${index} got cursor ${response.answer.cursor}`);
      if (index < options.warmup) continue;
      commitTimes.push(response.ms);
      remote.push(fromB);
      local.push(fromA);
    }
    onA.cancel();
    onB.cancel();
    machine.loadAtEnd = loadavg().map((load) => +load.toFixed(2));
    process.stdout.write(
      [
        '',
        `push latency over ${options.commits} commits, one at a time (ms from sending CommitFiles to task A)`,
        `machine: ${machine.cores} cores, load ${machine.loadAtStart.join(' ')} at start, ${machine.loadAtEnd.join(' ')} at end`,
        '',
        '| measured | n | p50 ms | p99 ms | max ms |',
        '| --- | ---: | ---: | ---: | ---: |',
        row('CommitFiles answered by task A', commitTimes),
        row('entry received on task B (SNS -> task queue)', remote),
        row('entry received on task A (in-process)', local),
        row(
          'task B: after CommitFiles answered (push hop)',
          remote.map((ms, index) => ms - commitTimes[index]!),
        ),
        '',
      ].join('\n'),
    );
  } finally {
    taskB?.close();
    stubs.close();
    await replica?.stop(5_000);
    await stack.stop();
    await rm(work, { recursive: true, force: true });
  }
}
