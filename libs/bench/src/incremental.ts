import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { buildClient, buildServices, repoRoot } from '@filesync/local-stack';
import {
  machineNow,
  PASSWORD,
  PEER_BUCKET,
  peerEnv,
  say,
  parseTools,
  runInfo,
  startBenchStack,
  TOOLS,
  type Tool,
  parsedOrExit,
} from './bench-env';
import { measure, type CommandCost } from './measure';
import { describeCount, type S3RequestCount } from './moto-requests';
import { formatSize, KiB, planSmallFiles, writeSmallFiles } from './small-files';

type Scenario = 'no-op' | 'one edit';

export interface IncrementalBenchOptions {
  readonly files: number;
  readonly runs: number;
  readonly tools: readonly Tool[];
  readonly portOffset: number;
  readonly json: string | undefined;
}

/** One timed run of one tool in one scenario. */
export interface IncrementalRow {
  readonly scenario: Scenario;
  readonly tool: Tool;
  readonly run: number;
  readonly command: string;
  readonly seconds?: number;
  readonly s3Requests?: S3RequestCount;
  readonly peakRssBytes?: number;
  readonly cpuSeconds?: number;
  readonly load?: number;
  readonly error?: string;
}

function parseCount(text: string): number {
  const value = Number(text.replaceAll(/[,_]/g, ''));
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return value;
}

export function parseIncrementalOptions(argv: readonly string[]): IncrementalBenchOptions {
  const program = new Command('bench:incremental')
    .description(
      'A synced folder of many small files synced again: with nothing to do, and after one edit. ' +
        'filesync beside aws s3 sync and rclone sync, same moto endpoint, same run.',
    )
    .addOption(new Option('--files <n>', 'small files (1-16 KiB)').default(20_000).argParser(parseCount))
    .addOption(new Option('--runs <n>', 'runs of each scenario per tool').default(5).argParser(parseCount))
    .addOption(
      new Option('--tools <list>', 'comma-separated subset of filesync,aws,rclone')
        .default([...TOOLS], TOOLS.join(','))
        .argParser(parseTools),
    )
    .addOption(
      new Option('--port-offset <n>', 'shift every port of the bench stack (bench:files uses the same ports)')
        .default(Number(process.env.FILESYNC_BENCH_PORT_OFFSET ?? 0))
        .argParser((text) => Number(text)),
    )
    .option('--json <file>', 'where the JSON goes (default .local/bench/incremental-<time>.json)')
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const options = program.opts<{
    files: number;
    runs: number;
    tools: Tool[];
    portOffset: number;
    json?: string;
  }>();
  return { ...options, json: options.json };
}

const median = (values: readonly number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * Issue 8's benchmark: after a first sync of many small files, `filesync sync` with nothing to do
 * and with one file edited, beside `aws s3 sync` and `rclone sync` of the same folder to the same
 * moto, each run --runs times (medians reported). Each tool syncs after the same edit.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const options = parsedOrExit(() => parseIncrementalOptions(argv));
  if (!options) return;
  const commandLine = ['npm run bench:incremental --', ...argv].join(' ');
  const machine = machineNow();
  const startedAt = new Date().toISOString();
  const root = repoRoot();
  const { commit, dirty, aws: awsVersion, rclone: rcloneVersion } = await runInfo();
  say(`${commandLine} (commit ${commit}${dirty ? ', uncommitted changes' : ''})`);
  const jsonPath =
    options.json ?? join(root, '.local', 'bench', `incremental-${startedAt.replaceAll(':', '-')}.json`);
  await mkdir(dirname(jsonPath), { recursive: true });
  const stackLogPath = jsonPath.replace(/\.json$/, '') + '.stack.log';
  const stackLog = createWriteStream(stackLogPath);
  const work = await mkdtemp(join(tmpdir(), 'filesync-bench-incremental-'));
  const folder = join(work, 'files');
  const plan = planSmallFiles({ count: options.files, minBytes: KiB, maxBytes: 16 * KiB, seed: 11 });
  const rows: IncrementalRow[] = [];
  let setup: Record<string, number> = {};
  try {
    say(`writing ${plan.length} files below ${folder}`);
    const bytes = await writeSmallFiles(folder, plan, 11);
    say(`${formatSize(bytes)} written; building the services and starting the bench stack`);
    await Promise.all([buildServices(), buildClient()]);
    const { stack, log } = await startBenchStack(options.portOffset, work, stackLog);
    try {
      const moto = stack.endpoints.emulators.moto;
      const env = peerEnv(work, moto);
      const home = join(work, 'device-1');
      const filesyncBin = join(root, 'node_modules', '.bin', 'filesync');
      const prefix = `s3://${PEER_BUCKET}/aws/files/`;
      const remote = `bench:${PEER_BUCKET}/rclone/files`;
      const commands: Record<Tool, { shown: string; run: () => Promise<CommandCost> }> = {
        filesync: {
          shown: 'filesync sync files/',
          run: () =>
            measure(filesyncBin, ['--server', stack.server, '--home', home, 'sync', folder, '--json'], {
              ...process.env,
              PATH: [dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter),
              FILESYNC_PASSWORD: PASSWORD,
            }),
        },
        aws: {
          shown: `aws s3 sync files/ ${prefix}`,
          run: () =>
            measure('aws', ['s3', 'sync', folder, prefix, '--only-show-errors', '--endpoint-url', moto], env),
        },
        rclone: {
          shown: `rclone sync files/ ${remote} --transfers 16`,
          run: () => measure('rclone', ['sync', folder, remote, '--transfers', '16', '-q'], env),
        },
      };
      const uses = (tool: Tool) => options.tools.includes(tool);
      if (uses('aws')) await measure('aws', ['s3', 'mb', `s3://${PEER_BUCKET}`, '--endpoint-url', moto], env);
      if (uses('filesync')) {
        await measure(
          filesyncBin,
          [
            '--server',
            stack.server,
            '--home',
            home,
            'signup',
            '--email',
            'bench@example.com',
            '--device',
            'd1',
          ],
          { ...process.env, FILESYNC_PASSWORD: PASSWORD },
        );
      }
      say('first syncs (not compared: bench:files does that)');
      for (const tool of options.tools) {
        const cost = await commands[tool].run();
        setup = { ...setup, [tool]: cost.seconds };
        say(`  ${tool} first sync: ${cost.seconds.toFixed(2)} s`);
      }

      for (let run = 1; run <= options.runs; run++) {
        for (const scenario of ['no-op', 'one edit'] as const) {
          if (scenario === 'one edit') {
            // A different file each run, so no tool can have seen the new content before.
            const edited = plan[(run * 7919) % plan.length]!;
            await appendFile(join(folder, edited.path), `edit ${run} at ${Date.now()}\n`);
          }
          for (const tool of options.tools) {
            const load = +(loadavg()[0] ?? 0).toFixed(2);
            const command = commands[tool];
            try {
              const from = await log.mark();
              const cost = await command.run();
              const to = await log.mark();
              const row: IncrementalRow = {
                scenario,
                tool,
                run,
                command: command.shown,
                seconds: cost.seconds,
                s3Requests: log.between(from, to),
                load,
                ...(cost.peakRssBytes === undefined ? {} : { peakRssBytes: cost.peakRssBytes }),
                ...(cost.cpuSeconds === undefined ? {} : { cpuSeconds: cost.cpuSeconds }),
              };
              rows.push(row);
              say(
                `${scenario} #${run} ${tool}: ${cost.seconds.toFixed(3)} s, ${describeCount(row.s3Requests!)}`,
              );
            } catch (error) {
              rows.push({
                scenario,
                tool,
                run,
                command: command.shown,
                error: (error as Error).message,
                load,
              });
              say(`${scenario} #${run} ${tool}: failed: ${(error as Error).message}`);
            }
          }
        }
      }
    } finally {
      await stack.stop();
    }
  } finally {
    stackLog.end();
    await rm(work, { recursive: true, force: true });
  }
  machine.loadAtEnd = loadavg().map((load) => +load.toFixed(2));
  const report = {
    command: commandLine,
    startedAt,
    commit,
    uncommittedChanges: dirty,
    versions: { node: process.version, aws: awsVersion, rclone: rcloneVersion },
    machine,
    files: options.files,
    firstSyncSeconds: setup,
    rows,
  };
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(markdown(report, options, jsonPath));
  if (rows.some((row) => row.error !== undefined)) process.exitCode = 1;
}

function markdown(
  report: {
    command: string;
    startedAt: string;
    commit: string;
    machine: ReturnType<typeof machineNow>;
    rows: IncrementalRow[];
  },
  options: IncrementalBenchOptions,
  jsonPath: string,
): string {
  const lines = [
    '',
    `## Syncing ${options.files.toLocaleString('en-US')} synced small files again: filesync beside aws s3 sync and rclone sync`,
    '',
    `- command: \`${report.command}\`; commit ${report.commit}; started ${report.startedAt}`,
    `- load average ${report.machine.loadAtStart.join(' / ')} at the start, ${report.machine.loadAtEnd?.join(' / ')} at the end`,
    '',
    '| scenario | tool | command | median s | min s | max s | S3 requests (median run) | peak RSS MiB | failed runs |',
    '| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |',
  ];
  for (const scenario of ['no-op', 'one edit'] as const) {
    for (const tool of options.tools) {
      const runs = report.rows.filter((row) => row.scenario === scenario && row.tool === tool);
      const ok = runs.filter((row) => row.seconds !== undefined);
      const seconds = ok.map((row) => row.seconds!);
      const mid = median(seconds);
      const middleRow = ok.find((row) => row.seconds === mid) ?? ok[0];
      const rss = Math.max(0, ...ok.map((row) => row.peakRssBytes ?? 0));
      lines.push(
        `| ${scenario} | ${tool} | \`${runs[0]?.command ?? ''}\` | ${mid?.toFixed(3) ?? ''} | ` +
          `${seconds.length ? Math.min(...seconds).toFixed(3) : ''} | ${seconds.length ? Math.max(...seconds).toFixed(3) : ''} | ` +
          `${middleRow?.s3Requests ? describeCount(middleRow.s3Requests) : ''} | ${rss ? (rss / 1024 / 1024).toFixed(0) : ''} | ` +
          `${runs.length - ok.length} |`,
      );
    }
  }
  lines.push('', `JSON: ${jsonPath}`, '');
  return lines.join('\n');
}
