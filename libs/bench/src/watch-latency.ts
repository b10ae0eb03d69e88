import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { buildClient, buildServices, repoRoot } from '@filesync/local-stack';
import {
  benchCli,
  machineNow,
  parsedOrExit,
  quiet,
  runInfo,
  say,
  startBenchStack,
  type BenchDevice,
  type Machine,
} from './bench-env';
import { startSyncthingPair, type SyncthingPair } from './syncthing-peer';
import { summarizeLatencies, timeWrites, type LatencySummary } from './write-latency';

export interface WatchLatencyOptions {
  readonly writes: number;
  readonly portOffset: number;
  readonly json: string | undefined;
}

function parseCount(text: string): number {
  const value = Number(text.replaceAll(/[,_]/g, ''));
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return value;
}

export function parseWatchLatencyOptions(argv: readonly string[]): WatchLatencyOptions {
  const program = new Command('bench:watch')
    .description(
      'Device-to-device latency under --watch, filesync beside Syncthing: two devices watch their folders; ' +
        'each write on device 1 is timed until device 2 holds its content.',
    )
    .addOption(new Option('--writes <n>', 'consecutive writes timed').default(200).argParser(parseCount))
    .addOption(
      new Option('--port-offset <n>', 'shift every port of the bench stack')
        .default(Number(process.env.FILESYNC_BENCH_PORT_OFFSET ?? 0))
        .argParser((text) => Number(text)),
    )
    .option('--json <file>', 'where the JSON goes (default .local/bench/watch-<time>.json)')
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const options = program.opts<{ writes: number; portOffset: number; json?: string }>();
  return { ...options, json: options.json };
}

/** One tool's line of the report. Latencies in whole milliseconds, loads as os.loadavg(). */
export interface WatchRow extends Partial<LatencySummary> {
  readonly tool: 'filesync' | 'Syncthing';
  readonly version: string;
  /** The tool's own description of its build, when it gives one. */
  readonly build?: string;
  /** What decides this tool's latency here: filesync's server feed, Syncthing's settings. */
  readonly settings: Record<string, unknown>;
  readonly loadAtStart?: readonly number[];
  readonly loadAtEnd?: readonly number[];
  readonly latenciesMs?: readonly number[];
  /** Why there are no figures: the tool failed, or is not installed. */
  readonly error?: string;
  readonly skipped?: string;
}

const loadNow = () => loadavg().map((load) => +load.toFixed(2));

/**
 * Async stops of what a run started, run in reverse order on SIGINT or SIGTERM before the bench
 * exits (130 or 143), so an interrupted run leaves no stack, watch or Syncthing behind. The normal
 * and the failure paths stop things themselves and untrack them.
 */
function stopsOnSignal() {
  const stops: Array<() => Promise<void>> = [];
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping what the bench started`);
    void Promise.allSettled(stops.reverse().map((stop) => stop())).finally(() =>
      process.exit(signal === 'SIGINT' ? 130 : 143),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    track(stop: () => Promise<void>): () => void {
      stops.push(stop);
      return () => void stops.splice(stops.indexOf(stop), 1);
    },
    dispose() {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

type Track = ReturnType<typeof stopsOnSignal>['track'];

const SHARED_FILE = 'latency.txt';

/**
 * filesync's side: two devices of one account run `filesync sync DIR --watch --json` (the bundled
 * CLI, as users run it) against the bench stack. Returns the latencies (ms) and the server feed
 * the watches reported (push or polling).
 */
async function timeFilesync(
  options: WatchLatencyOptions,
  work: string,
  stackLog: WriteStream,
  track: Track,
): Promise<{ latencies: number[]; feed: string }> {
  say('building the services and the CLI, starting the bench stack');
  await Promise.all([buildServices(), buildClient()]);
  const { stack } = await startBenchStack(options.portOffset, work, stackLog);
  const untrackStack = track(() => stack.stop());
  const watchers: ChildProcess[] = [];
  const stopWatchers = async () => {
    for (const child of watchers) child.kill('SIGTERM');
    await Promise.all(
      watchers.map((child) =>
        child.exitCode === null && child.signalCode === null
          ? new Promise((resolve) => child.once('exit', resolve))
          : undefined,
      ),
    );
  };
  const untrackWatchers = track(stopWatchers);
  let feed = 'unknown';
  try {
    const { bin, env, device, cli } = benchCli(stack.server, work);
    const one = device('device-1');
    const two = device('device-2');
    await cli(one.home, ['signup', '--email', 'watch-bench@example.com', '--device', 'd1']);
    await cli(two.home, ['login', '--email', 'watch-bench@example.com', '--device', 'd2']);
    await mkdir(one.folder, { recursive: true });
    await mkdir(two.folder, { recursive: true });
    await writeFile(join(one.folder, SHARED_FILE), 'start');
    await cli(one.home, ['sync', one.folder]);
    await cli(two.home, ['sync', two.folder]);

    const startWatch = (dev: BenchDevice, name: string) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(
          bin,
          ['--server', stack.server, '--home', dev.home, 'sync', dev.folder, '--watch', '--json'],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        watchers.push(child);
        let buffered = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
            const line = buffered.slice(0, end);
            buffered = buffered.slice(end + 1);
            const event = JSON.parse(line) as { event: string; mode?: string };
            stackLog.write(`[${name}] ${line}\n`);
            if (event.event === 'watching') resolve();
            if (event.event === 'server' && event.mode) feed = event.mode;
          }
        });
        child.stderr!.on('data', (chunk: Buffer) =>
          stackLog.write(`[${name} stderr] ${chunk.toString('utf8')}`),
        );
        child.once('exit', (code) => reject(new Error(`${name}'s watch exited with ${code}`)));
      });
    // Both first passes done before the shared loop's warm-up write waits for the feeds.
    await Promise.all([startWatch(one, 'device-1'), startWatch(two, 'device-2')]);
    say(`filesync: timing ${options.writes} writes`);
    const latencies = await timeWrites({
      source: join(one.folder, SHARED_FILE),
      target: join(two.folder, SHARED_FILE),
      writes: options.writes,
      progress: say,
    });
    say(`filesync: the server feed was ${feed}`);
    return { latencies, feed };
  } finally {
    await stopWatchers();
    untrackWatchers();
    await stack.stop();
    untrackStack();
  }
}

/** Syncthing's side: two instances share one folder (see startSyncthingPair), same loop. */
async function timeSyncthing(
  options: WatchLatencyOptions,
  work: string,
  stackLog: WriteStream,
  track: Track,
): Promise<{ latencies: number[]; pair: SyncthingPair }> {
  say('Syncthing: starting two instances and sharing a folder');
  const pair = await startSyncthingPair({
    work,
    portOffset: options.portOffset,
    seed: { name: SHARED_FILE, content: 'start' },
    sink: (name, line) => stackLog.write(`[${name}] ${line}\n`),
  });
  const untrack = track(() => pair.stop());
  try {
    say(
      `Syncthing: timing ${options.writes} writes (fsWatcherDelayS ${pair.settings.folder.fsWatcherDelayS})`,
    );
    const latencies = await timeWrites({
      source: join(pair.folders[0], SHARED_FILE),
      target: join(pair.folders[1], SHARED_FILE),
      writes: options.writes,
      progress: say,
    });
    return { latencies, pair };
  } finally {
    await pair.stop();
    untrack();
  }
}

/** One phase as a row: its figures, or the error that stopped it (said, and kept in the row). */
async function measured(
  row: Omit<WatchRow, 'loadAtStart'>,
  phase: () => Promise<{
    latencies: number[];
    version?: string;
    build?: string;
    settings?: Record<string, unknown>;
  }>,
): Promise<WatchRow> {
  const loadAtStart = loadNow();
  try {
    const { latencies, version, build, settings } = await phase();
    return {
      ...row,
      ...(version === undefined ? {} : { version }),
      ...(build === undefined ? {} : { build }),
      settings: { ...row.settings, ...settings },
      ...summarizeLatencies(latencies),
      loadAtStart,
      loadAtEnd: loadNow(),
      latenciesMs: latencies.map(Math.round),
    };
  } catch (error) {
    say(`${row.tool} failed: ${(error as Error).message}`);
    return { ...row, loadAtStart, loadAtEnd: loadNow(), error: (error as Error).message };
  }
}

const ms = (value: number | undefined) => (value === undefined ? '' : `${value} ms`);

/** The settings column: `key value` pairs, nested objects flattened with dots. */
function describeSettings(settings: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(settings).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? describeSettings(value as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key} ${Array.isArray(value) ? value.join(',') : String(value)}`],
  );
}

/** The markdown report: one row per tool, then what each tool's settings were. */
export function watchMarkdown(report: {
  command: string;
  commit: string;
  startedAt: string;
  machine: Machine;
  rows: readonly WatchRow[];
  jsonPath: string;
}): string {
  const { machine } = report;
  const load = (values: readonly number[] | undefined) => (values ?? []).join(' / ');
  return [
    '',
    '## Device-to-device latency under `--watch`: filesync and Syncthing',
    '',
    `- command: \`${report.command}\`; commit ${report.commit}; started ${report.startedAt}`,
    `- machine: ${machine.cores} cores; load average ${load(machine.loadAtStart)} at the start, ` +
      `${load(machine.loadAtEnd)} at the end`,
    '',
    '| tool | version | writes | p50 | p99 | worst | load at start | load at end |',
    '| ---- | ------- | ------ | --- | --- | ----- | ------------- | ----------- |',
    ...report.rows.map((row) =>
      row.skipped !== undefined || row.error !== undefined
        ? `| ${row.tool} | ${row.version} | ${row.skipped ?? `failed: ${row.error!.split('\n')[0]}`} | | | | ` +
          `${load(row.loadAtStart)} | ${load(row.loadAtEnd)} |`
        : `| ${row.tool} | ${row.version} | ${row.writes} | ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ` +
          `${ms(row.worstMs)} | ${load(row.loadAtStart)} | ${load(row.loadAtEnd)} |`,
    ),
    '',
    ...report.rows.map((row) => `- ${row.tool}: ${describeSettings(row.settings).join('; ')}`),
    '',
    `JSON: ${report.jsonPath}`,
    '',
  ].join('\n');
}

/**
 * Issue 8's watch benchmark, filesync beside Syncthing in one run: each tool keeps two devices'
 * folders in sync on this machine, device 1's file is rewritten --writes times, each write after
 * the previous one arrived, and the time from the write until device 2's copy has the new
 * content is the latency (timeWrites, the same loop for both). filesync runs first against its
 * bench stack, which is stopped before Syncthing starts. Reports p50, p99 and the worst per tool;
 * without `syncthing` on PATH, filesync's row alone and why.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const options = parsedOrExit(() => parseWatchLatencyOptions(argv));
  if (!options) return;
  const commandLine = ['npm run bench:watch --', ...argv].join(' ');
  const machine = machineNow();
  const startedAt = new Date().toISOString();
  const root = repoRoot();
  const { commit, dirty } = await runInfo();
  say(`${commandLine} (commit ${commit}${dirty ? ', uncommitted changes' : ''})`);
  const jsonPath =
    options.json ?? join(root, '.local', 'bench', `watch-${startedAt.replaceAll(':', '-')}.json`);
  await mkdir(dirname(jsonPath), { recursive: true });
  const stackLog = createWriteStream(jsonPath.replace(/\.json$/, '') + '.stack.log');
  const work = await mkdtemp(join(tmpdir(), 'filesync-bench-watch-'));
  const signals = stopsOnSignal();
  // Tracked first, so an interrupted run removes the folders after everything using them stopped.
  signals.track(() => rm(work, { recursive: true, force: true }));
  const rows: WatchRow[] = [];
  try {
    rows.push(
      await measured(
        { tool: 'filesync', version: `commit ${commit}${dirty ? '+changes' : ''}`, settings: {} },
        async () => {
          const { latencies, feed } = await timeFilesync(options, work, stackLog, signals.track);
          return { latencies, settings: { 'server feed': feed } };
        },
      ),
    );
    const syncthing = await quiet('syncthing', ['--version']);
    rows.push(
      syncthing === 'unknown'
        ? {
            tool: 'Syncthing',
            version: 'not installed',
            settings: {},
            skipped: 'not on PATH (apt-get install syncthing): no comparison',
          }
        : await measured(
            {
              tool: 'Syncthing',
              version: syncthing.split(' ')[1] ?? syncthing,
              build: syncthing,
              settings: {},
            },
            async () => {
              const { latencies, pair } = await timeSyncthing(options, work, stackLog, signals.track);
              return {
                latencies,
                version: pair.version,
                build: pair.longVersion,
                settings: { ...pair.settings },
              };
            },
          ),
    );
  } finally {
    signals.dispose();
    stackLog.end();
    await rm(work, { recursive: true, force: true });
  }
  machine.loadAtEnd = loadNow();
  const report = { command: commandLine, startedAt, commit, uncommittedChanges: dirty, machine, rows };
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(watchMarkdown({ ...report, jsonPath }));
  if (rows.some((row) => row.error !== undefined)) process.exitCode = 1;
}
