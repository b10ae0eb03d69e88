import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
} from './bench-env';

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
      'Device-to-device latency under `filesync sync --watch`: two devices watch their folders; ' +
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

/** The value below which `fraction` of the sorted values lie (nearest rank). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

/** Resolves once `check` holds (polled every `everyMs`), or rejects after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const contentIs = (path: string, expected: string) => () =>
  readFile(path, 'utf8').then(
    (text) => text === expected,
    () => false,
  );

/**
 * Issue 8's watch benchmark: two devices of one account run `filesync sync DIR --watch` (the
 * bundled CLI, as users run it) against the bench stack; device 1's file is rewritten --writes
 * times, each write after the previous one arrived, and the time from the write until device 2's
 * copy has the new content is the latency. Reports p50, p99 and the worst.
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
  const latencies: number[] = [];
  const watchers: ChildProcess[] = [];
  let feedMode = 'unknown';
  try {
    say('building the services and the CLI, starting the bench stack');
    await Promise.all([buildServices(), buildClient()]);
    const { stack } = await startBenchStack(options.portOffset, work, stackLog);
    try {
      const { bin, env, device, cli } = benchCli(stack.server, work);
      const one = device('device-1');
      const two = device('device-2');
      await cli(one.home, ['signup', '--email', 'watch-bench@example.com', '--device', 'd1']);
      await cli(two.home, ['login', '--email', 'watch-bench@example.com', '--device', 'd2']);
      await mkdir(one.folder, { recursive: true });
      await mkdir(two.folder, { recursive: true });
      const file = 'latency.txt';
      await writeFile(join(one.folder, file), 'start');
      await cli(one.home, ['sync', one.folder]);
      await cli(two.home, ['sync', two.folder]);

      const startWatch = (dev: BenchDevice, name: string) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(
            bin,
            ['--server', stack.server, '--home', dev.home, 'sync', dev.folder, '--watch', '--json'],
            {
              env,
              stdio: ['ignore', 'pipe', 'pipe'],
            },
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
              if (event.event === 'server' && event.mode) feedMode = event.mode;
            }
          });
          child.stderr!.on('data', (chunk: Buffer) =>
            stackLog.write(`[${name} stderr] ${chunk.toString('utf8')}`),
          );
          child.once('exit', (code) => reject(new Error(`${name}'s watch exited with ${code}`)));
        });
      await Promise.all([startWatch(one, 'device-1'), startWatch(two, 'device-2')]);
      // Both first passes done and the feeds connected before timing starts.
      await writeFile(join(one.folder, file), 'warm-up');
      await until(contentIs(join(two.folder, file), 'warm-up'), 60_000);
      say(`timing ${options.writes} writes (the server feed: ${feedMode})`);
      for (let index = 1; index <= options.writes; index++) {
        const content = `write ${index} at ${Date.now()}\n`;
        const startedMs = performance.now();
        await writeFile(join(one.folder, file), content);
        await until(contentIs(join(two.folder, file), content), 30_000);
        latencies.push(performance.now() - startedMs);
        if (index % 50 === 0) say(`  ${index} writes, last ${latencies.at(-1)!.toFixed(0)} ms`);
      }
    } finally {
      for (const child of watchers) child.kill('SIGTERM');
      await Promise.all(
        watchers.map((child) =>
          child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
        ),
      );
      await stack.stop();
    }
  } finally {
    stackLog.end();
    await rm(work, { recursive: true, force: true });
  }
  machine.loadAtEnd = loadavg().map((load) => +load.toFixed(2));
  const sorted = [...latencies].sort((a, b) => a - b);
  const summary = {
    writes: latencies.length,
    p50Ms: Math.round(percentile(sorted, 0.5)),
    p99Ms: Math.round(percentile(sorted, 0.99)),
    worstMs: Math.round(sorted.at(-1) ?? Number.NaN),
    feed: feedMode,
  };
  const syncthing = await quiet('syncthing', ['--version']);
  const report = {
    command: commandLine,
    startedAt,
    commit,
    uncommittedChanges: dirty,
    machine,
    summary,
    latenciesMs: latencies.map(Math.round),
    syncthing,
  };
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    [
      '',
      '## Device-to-device latency under `filesync sync --watch`',
      '',
      `- command: \`${commandLine}\`; commit ${commit}; started ${startedAt}; server feed: ${feedMode}`,
      `- load average ${machine.loadAtStart.join(' / ')} at the start, ${machine.loadAtEnd.join(' / ')} at the end`,
      `- peer: Syncthing ${syncthing === 'unknown' ? 'is not installed here (no comparison)' : syncthing}`,
      '',
      '| writes | p50 | p99 | worst |',
      '| ------ | --- | --- | ----- |',
      `| ${summary.writes} | ${summary.p50Ms} ms | ${summary.p99Ms} ms | ${summary.worstMs} ms |`,
      '',
      `JSON: ${jsonPath}`,
      '',
    ].join('\n'),
  );
}
