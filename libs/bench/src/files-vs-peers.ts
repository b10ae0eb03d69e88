import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { buildClient, buildServices, repoRoot } from '@filesync/local-stack';
import { verificationCode } from '@filesync/test-support';
import {
  machineNow,
  PASSWORD,
  PEER_BUCKET,
  peerEnv,
  say,
  type Machine,
  parseTools,
  runInfo,
  startBenchStack,
  TOOLS,
  type Tool,
  parsedOrExit,
} from './bench-env';
import { measure, type CommandCost } from './measure';
import { describeCount, type S3RequestCount } from './moto-requests';
import {
  compareTrees,
  formatSize,
  KiB,
  MiB,
  parseSize,
  planSmallFiles,
  sameTree,
  writeBigFile,
  writeSmallFiles,
  type TreeDifference,
} from './small-files';

type DataSet = 'files' | 'big';
type Direction = 'up' | 'down';

export interface BenchOptions {
  readonly files: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  /** Bytes of the one big file; 0 skips it. */
  readonly big: number;
  readonly seed: number;
  readonly tools: readonly Tool[];
  readonly json: string | undefined;
  readonly portOffset: number;
  readonly keep: boolean;
}

/** One timed command. Figures are of the client process; S3 requests are of everyone, at moto. */
export interface Row {
  readonly set: DataSet;
  readonly direction: Direction;
  readonly tool: Tool;
  /** The command as a user would type it (paths shortened). */
  readonly command: string;
  readonly files: number;
  readonly bytes: number;
  readonly seconds?: number;
  readonly filesPerSecond?: number;
  readonly mibPerSecond?: number;
  readonly s3Requests?: S3RequestCount;
  readonly peakRssBytes?: number;
  readonly cpuSeconds?: number;
  /** The machine's 1-minute load average as the command started: above the cores, distrust the row. */
  readonly load?: number;
  /** Downloads only: the tree is byte-identical to the source. */
  readonly identical?: boolean;
  readonly difference?: TreeDifference;
  /** Why the row has no figures: the command failed, or what it needs did. */
  readonly error?: string;
}

export interface Ratio {
  readonly name: string;
  readonly numerator: string;
  readonly denominator: string;
  readonly value?: number;
  /** The ratio issue 7 asks for: value <= target. */
  readonly target: number;
}

function parseCount(text: string): number {
  const value = Number(text.replaceAll(/[,_]/g, ''));
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return value;
}

function parseSizeOption(text: string): number {
  try {
    return parseSize(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const program = new Command('bench:files')
    .description(
      'Many small files and one big file: filesync beside aws s3 sync/cp and rclone copy --transfers 16, ' +
        'same moto endpoint, same run. Prints a markdown table, writes JSON.',
    )
    .addOption(
      new Option('--files <n>', 'small files to generate (0 skips them)')
        .default(10_000)
        .argParser(parseCount),
    )
    .addOption(
      new Option('--min-size <size>', 'smallest small file').default(KiB, '1KiB').argParser(parseSizeOption),
    )
    .addOption(
      new Option('--max-size <size>', 'largest small file')
        .default(16 * KiB, '16KiB')
        .argParser(parseSizeOption),
    )
    .addOption(
      new Option('--big <size>', 'the one big file (0 skips it)')
        .default(1024 * MiB, '1GiB')
        .argParser(parseSizeOption),
    )
    .addOption(new Option('--seed <n>', 'seed of sizes and content').default(7).argParser(parseCount))
    .addOption(
      new Option('--tools <list>', 'comma-separated subset of filesync,aws,rclone')
        .default([...TOOLS], TOOLS.join(','))
        .argParser(parseTools),
    )
    .option('--json <file>', 'where the JSON goes (default .local/bench/files-<time>.json)')
    .addOption(
      new Option('--port-offset <n>', 'shift every port of the bench stack')
        .default(Number(process.env.FILESYNC_BENCH_PORT_OFFSET ?? 0))
        .argParser(parseCount),
    )
    .option('--keep', 'keep the temp folder (data set, downloads) for inspection')
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const options = program.opts<{
    files: number;
    minSize: number;
    maxSize: number;
    big: number;
    seed: number;
    tools: Tool[];
    json?: string;
    portOffset: number;
    keep?: boolean;
  }>();
  if (options.maxSize < options.minSize) throw new InvalidArgumentError('--max-size is below --min-size');
  return {
    files: options.files,
    minBytes: options.minSize,
    maxBytes: options.maxSize,
    big: options.big,
    seed: options.seed,
    tools: options.tools,
    json: options.json,
    portOffset: options.portOffset,
    keep: options.keep === true,
  };
}

/**
 * Issue 7's benchmark: many small files and one big file, filesync (the CLI, as a new user runs
 * it) beside `aws s3 sync`/`aws s3 cp` and `rclone copy --transfers 16`, against one moto in one
 * run, with S3 requests counted at moto. See README "Benchmark".
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const parsed = parsedOrExit(() => parseOptions(argv));
  if (!parsed) return;
  // A const of its own: the phases below read it from closures.
  const options: BenchOptions = parsed;
  const commandLine = ['npm run bench:files --', ...argv].join(' ');
  const machine = machineNow();
  const startedAt = new Date().toISOString();
  const root = repoRoot();
  const { commit, dirty, aws: awsVersion, rclone: rcloneVersion } = await runInfo();
  say(`${commandLine} (commit ${commit}${dirty ? ', uncommitted changes' : ''})`);
  say(`load ${machine.loadAtStart.join(' ')} on ${machine.cores} cores`);

  const jsonPath =
    options.json ?? join(root, '.local', 'bench', `files-${startedAt.replaceAll(':', '-')}.json`);
  await mkdir(join(jsonPath, '..'), { recursive: true });
  const stackLogPath = jsonPath.replace(/\.json$/, '') + '.stack.log';
  const work = await mkdtemp(join(tmpdir(), 'filesync-bench-files-'));
  const stackLog = createWriteStream(stackLogPath);

  const rows: Row[] = [];
  const smallFiles = planSmallFiles({
    count: options.files,
    minBytes: options.minBytes,
    maxBytes: options.maxBytes,
    seed: options.seed,
  });
  const folder = join(work, 'files');
  const bigFolder = join(work, 'big');
  let smallBytes = 0;
  try {
    say(`writing ${smallFiles.length} files and a ${formatSize(options.big)} file below ${work}`);
    smallBytes = await writeSmallFiles(folder, smallFiles, options.seed);
    if (options.big > 0) await writeBigFile(join(bigFolder, 'big.bin'), options.big, options.seed);
    say('building the services and starting the bench stack');
    await Promise.all([buildServices(), buildClient()]);
    await runPhases();
  } finally {
    stackLog.end();
    if (options.keep) say(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }

  async function runPhases(): Promise<void> {
    const { stack, log } = await startBenchStack(options.portOffset, work, stackLog);
    const moto = stack.endpoints.emulators.moto;
    try {
      const env = peerEnv(work, moto);
      const aws = (args: string[]) => measure('aws', [...args, '--endpoint-url', moto], env);
      const rclone = (args: string[]) => measure('rclone', [...args, '--transfers', '16', '-q'], env);
      const filesyncBin = join(root, 'node_modules', '.bin', 'filesync');
      // Run as a user runs it (`npx filesync`): through the bin's shebang, which carries the
      // CLI's node flags; this Node first on PATH, so the shebang's `env node` finds it.
      const filesync = (home: string, args: string[]) =>
        measure(filesyncBin, ['--server', stack.server, '--home', home, ...args], {
          ...process.env,
          PATH: [dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter),
          FILESYNC_PASSWORD: PASSWORD,
        });
      const uses = (tool: Tool) => options.tools.includes(tool);

      await aws(['s3', 'mb', `s3://${PEER_BUCKET}`]);
      /** A new user: sign up on device 1, verify with the mailed code, log in on device 2. */
      const newUser = async (name: string) => {
        const email = `${name}@bench.example.com`;
        const homes = { first: join(work, `${name}-device-1`), second: join(work, `${name}-device-2`) };
        await filesync(homes.first, ['signup', '--email', email, '--device', 'device-1']);
        const code = await verificationCode(stack.endpoints.emulators.ses, email);
        await filesync(homes.first, ['verify', code]);
        await filesync(homes.second, ['login', '--email', email, '--device', 'device-2']);
        return homes;
      };
      if (uses('filesync')) {
        // The services' first requests (JIT, DynamoDB Local's JVM) and the CLI's first start
        // (tsx compiling its sources) would otherwise be charged to whichever phase runs first.
        say('warming up: a throw-away user syncs three files');
        const warm = await newUser('warm-up');
        const warmFolder = join(work, 'warm-up');
        await writeSmallFiles(
          warmFolder,
          planSmallFiles({ count: 3, minBytes: KiB, maxBytes: KiB, seed: 1 }),
          1,
        );
        await filesync(warm.first, ['sync', warmFolder, '--json']);
        await filesync(warm.second, ['sync', join(work, 'warm-up-2'), '--create', '--json']);
      }

      const phase = async (
        row: Pick<Row, 'set' | 'direction' | 'tool' | 'command' | 'files' | 'bytes'>,
        execute: () => Promise<CommandCost>,
        check?: () => Promise<TreeDifference>,
      ): Promise<Row> => {
        say(`${row.tool} ${row.direction}: ${row.command}`);
        let result: Row;
        try {
          const load = +(loadavg()[0] ?? 0).toFixed(2);
          const from = await log.mark();
          const cost = await execute();
          const to = await log.mark();
          const difference = check ? await check() : undefined;
          result = {
            ...row,
            seconds: cost.seconds,
            filesPerSecond: row.files / cost.seconds,
            mibPerSecond: row.bytes / MiB / cost.seconds,
            s3Requests: log.between(from, to),
            load,
            ...(cost.peakRssBytes === undefined ? {} : { peakRssBytes: cost.peakRssBytes }),
            ...(cost.cpuSeconds === undefined ? {} : { cpuSeconds: cost.cpuSeconds }),
            ...(difference ? { identical: sameTree(difference), difference } : {}),
          };
          say(
            `  ${cost.seconds.toFixed(2)} s, ${describeCount(result.s3Requests!)} S3 requests` +
              (difference && !sameTree(difference) ? ', NOT byte-identical' : ''),
          );
        } catch (error) {
          result = { ...row, error: (error as Error).message };
          say(`  failed: ${result.error}`);
        }
        rows.push(result);
        return result;
      };
      const skipped = (
        row: Pick<Row, 'set' | 'direction' | 'tool' | 'command' | 'files' | 'bytes'>,
        why: string,
      ) => rows.push({ ...row, error: why });
      const downloaded = (source: string, target: string) => async () => {
        const difference = await compareTrees(source, target);
        // Verified, so the bytes may go: three copies of a 1 GiB file are enough.
        await rm(target, { recursive: true, force: true });
        return difference;
      };

      const sets: { set: DataSet; source: string; files: number; bytes: number; label: string }[] = [];
      if (smallFiles.length > 0) {
        sets.push({
          set: 'files',
          source: folder,
          files: smallFiles.length,
          bytes: smallBytes,
          label: 'files',
        });
      }
      if (options.big > 0)
        sets.push({ set: 'big', source: bigFolder, files: 1, bytes: options.big, label: 'big' });

      for (const { set, source, files, bytes, label } of sets) {
        const size = { set, files, bytes };
        const target = (tool: Tool) => join(work, `${label}-down-${tool}`);
        const prefix = `s3://${PEER_BUCKET}/aws/${label}`;
        const remote = `bench:${PEER_BUCKET}/rclone/${label}`;
        let device2: string | undefined;
        let filesyncUp: Row | undefined;
        if (uses('filesync')) {
          const user = await newUser(label);
          device2 = user.second;
          filesyncUp = await phase(
            {
              ...size,
              direction: 'up',
              tool: 'filesync',
              command: `filesync sync ${label}/ (first sync, new user)`,
            },
            () => filesync(user.first, ['sync', source, '--json']),
          );
        }
        if (uses('aws')) {
          if (set === 'files') {
            await phase(
              { ...size, direction: 'up', tool: 'aws', command: `aws s3 sync ${label}/ ${prefix}/` },
              () => aws(['s3', 'sync', source, `${prefix}/`, '--only-show-errors']),
            );
          } else {
            await phase(
              { ...size, direction: 'up', tool: 'aws', command: `aws s3 cp big.bin ${prefix}/big.bin` },
              () => aws(['s3', 'cp', join(source, 'big.bin'), `${prefix}/big.bin`, '--only-show-errors']),
            );
          }
        }
        if (uses('rclone')) {
          await phase(
            {
              ...size,
              direction: 'up',
              tool: 'rclone',
              command: `rclone copy ${label}/ ${remote} --transfers 16`,
            },
            () => rclone(['copy', source, remote]),
          );
        }
        if (uses('filesync') && device2) {
          const row = {
            ...size,
            direction: 'down' as const,
            tool: 'filesync' as const,
            command: `filesync sync ${label}-down/ --create (second device)`,
          };
          if (filesyncUp?.error) skipped(row, 'the upload failed');
          else {
            const home = device2;
            await phase(
              row,
              () => filesync(home, ['sync', target('filesync'), '--create', '--json']),
              downloaded(source, target('filesync')),
            );
          }
        }
        if (uses('aws')) {
          if (set === 'files') {
            await phase(
              { ...size, direction: 'down', tool: 'aws', command: `aws s3 sync ${prefix}/ ${label}-down/` },
              () => aws(['s3', 'sync', `${prefix}/`, target('aws'), '--only-show-errors']),
              downloaded(source, target('aws')),
            );
          } else {
            await phase(
              {
                ...size,
                direction: 'down',
                tool: 'aws',
                command: `aws s3 cp ${prefix}/big.bin ${label}-down/`,
              },
              () =>
                aws(['s3', 'cp', `${prefix}/big.bin`, join(target('aws'), 'big.bin'), '--only-show-errors']),
              downloaded(source, target('aws')),
            );
          }
        }
        if (uses('rclone')) {
          await phase(
            {
              ...size,
              direction: 'down',
              tool: 'rclone',
              command: `rclone copy ${remote} ${label}-down/ --transfers 16`,
            },
            () => rclone(['copy', remote, target('rclone')]),
            downloaded(source, target('rclone')),
          );
        }
      }
    } finally {
      await stack.stop();
    }
  }
  machine.loadAtEnd = loadavg().map((load) => +load.toFixed(2));

  const ratios = computeRatios(rows);
  const report = {
    command: commandLine,
    startedAt,
    commit,
    uncommittedChanges: dirty,
    versions: { node: process.version, aws: awsVersion, rclone: rcloneVersion },
    machine,
    dataSet: {
      files: smallFiles.length,
      fileBytes: smallBytes,
      minBytes: options.minBytes,
      maxBytes: options.maxBytes,
      seed: options.seed,
      bigBytes: options.big,
    },
    rows,
    ratios,
  };
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(markdown(report, jsonPath, stackLogPath));
  if (rows.some((row) => row.error !== undefined || row.identical === false)) process.exitCode = 1;
}

const find = (rows: readonly Row[], set: DataSet, direction: Direction, tool: Tool) =>
  rows.find((row) => row.set === set && row.direction === direction && row.tool === tool);

/** Issue 7's targets, each a ratio of seconds measured in this run. */
export function computeRatios(rows: readonly Row[]): Ratio[] {
  const ratio = (name: string, [set, direction]: [DataSet, Direction], peer: Tool, target: number): Ratio => {
    const ours = find(rows, set, direction, 'filesync');
    const theirs = find(rows, set, direction, peer);
    const value =
      ours?.seconds !== undefined && theirs?.seconds !== undefined
        ? ours.seconds / theirs.seconds
        : undefined;
    return {
      name,
      numerator: ours?.command ?? 'filesync (not run)',
      denominator: theirs?.command ?? `${peer} (not run)`,
      ...(value === undefined ? {} : { value }),
      target,
    };
  };
  return [
    ratio('first sync of the small files: filesync / aws s3 sync', ['files', 'up'], 'aws', 0.5),
    ratio('second device downloads them: filesync / rclone copy', ['files', 'down'], 'rclone', 0.5),
    ratio('big file upload: filesync / aws s3 cp', ['big', 'up'], 'aws', 1),
  ];
}

/** The client's peak RSS that issue 7 allows whatever the folder: 300 MiB. */
const RSS_CEILING_BYTES = 300 * MiB;

/** Text fit for one markdown table cell: one line, no column breaks, not a page long. */
const cell = (text: string) => {
  const line = text.replaceAll(/\s*\n\s*/g, ' / ').replaceAll('|', '\\|');
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
};

const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '' : value.toFixed(digits);

function markdown(
  report: {
    command: string;
    startedAt: string;
    commit: string;
    uncommittedChanges: boolean;
    versions: Record<string, string>;
    machine: Machine;
    dataSet: {
      files: number;
      fileBytes: number;
      minBytes: number;
      maxBytes: number;
      seed: number;
      bigBytes: number;
    };
    rows: readonly Row[];
    ratios: readonly Ratio[];
  },
  jsonPath: string,
  stackLogPath: string,
): string {
  const { machine, dataSet } = report;
  const lines = [
    '',
    `## filesync beside aws s3 and rclone: ${dataSet.files.toLocaleString('en-US')} files of ` +
      `${formatSize(dataSet.minBytes)}-${formatSize(dataSet.maxBytes)} (${formatSize(dataSet.fileBytes)}, seed ${dataSet.seed})` +
      (dataSet.bigBytes > 0 ? `, one ${formatSize(dataSet.bigBytes)} file` : ''),
    '',
    `- command: \`${report.command}\``,
    `- started ${report.startedAt}, commit ${report.commit}${report.uncommittedChanges ? ' (with uncommitted changes)' : ''}`,
    `- machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB RAM (${machine.freeMemoryGiB} free); ` +
      `load average (1/5/15 min) ${machine.loadAtStart.join(' / ')} at the start, ${machine.loadAtEnd?.join(' / ')} at the end`,
    `- ${report.versions.aws}; ${report.versions.rclone}; node ${report.versions.node}; one moto_server for all`,
    '',
    '| data | way | tool | command | s | files/s | MiB/s | S3 requests at moto | peak RSS MiB | CPU s | byte-identical | load |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: |',
  ];
  for (const row of report.rows) {
    const data = row.set === 'files' ? `${row.files.toLocaleString('en-US')} files` : formatSize(row.bytes);
    const identical =
      row.identical === undefined
        ? ''
        : row.identical
          ? 'yes'
          : `NO: ${row.difference!.missing.length} missing, ${row.difference!.extra.length} extra, ${row.difference!.different.length} different`;
    lines.push(
      row.error !== undefined
        ? `| ${data} | ${row.direction} | ${row.tool} | \`${row.command}\` | failed: ${cell(row.error)} | | | | | | | |`
        : `| ${data} | ${row.direction} | ${row.tool} | \`${row.command}\` | ${fixed(row.seconds, 2)} | ` +
            `${fixed(row.filesPerSecond, row.set === 'files' ? 0 : 3)} | ${fixed(row.mibPerSecond, 2)} | ` +
            `${row.s3Requests ? describeCount(row.s3Requests) : ''} | ${fixed(row.peakRssBytes === undefined ? undefined : row.peakRssBytes / MiB, 0)} | ` +
            `${fixed(row.cpuSeconds, 1)} | ${identical} | ${fixed(row.load, 1)} |`,
    );
  }
  lines.push('', '| issue 7 target | ratio of seconds | target | met |', '| --- | ---: | ---: | --- |');
  for (const ratio of report.ratios) {
    const met = ratio.value === undefined ? 'not measured' : ratio.value <= ratio.target ? 'yes' : 'no';
    lines.push(`| ${ratio.name} | ${fixed(ratio.value, 2)} | <= ${ratio.target} | ${met} |`);
  }
  const ours = report.rows.filter((row) => row.tool === 'filesync' && row.peakRssBytes !== undefined);
  if (ours.length > 0) {
    const peak = Math.max(...ours.map((row) => row.peakRssBytes!));
    lines.push(
      `| filesync CLI peak RSS, any phase | ${(peak / MiB).toFixed(0)} MiB | <= ${RSS_CEILING_BYTES / MiB} MiB | ${peak <= RSS_CEILING_BYTES ? 'yes' : 'no'} |`,
    );
  }
  lines.push('', `JSON: ${jsonPath}; stack log: ${stackLogPath}`, '');
  return lines.join('\n');
}
