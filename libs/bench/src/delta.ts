import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Command, Option } from 'commander';
import { buildClient, buildServices, repoRoot } from '@filesync/local-stack';
import { LIMITS } from '@filesync/resources';
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

const run = promisify(execFile);
const MiB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MiB).toFixed(2);

export interface DeltaOptions {
  /** Size of the file a 1 MiB block of new bytes is inserted into, MiB. */
  readonly bigMiB: number;
  /** Size of the folder that is renamed, MiB (in files of 4 MiB). */
  readonly folderMiB: number;
  /** Insertions of 1 MiB, one after another: the first in the middle, the rest anywhere in the middle half. */
  readonly insertions: number;
  readonly portOffset: number;
  readonly json: string | undefined;
}

export function parseDeltaOptions(argv: readonly string[]): DeltaOptions {
  const program = new Command('bench:delta')
    .description(
      'Bytes moved by filesync for a 1 MiB insertion in the middle of a big file and for a folder ' +
        'rename, between two devices, beside rsync --stats of the same change.',
    )
    .addOption(new Option('--big-mib <n>', 'size of the file edited').default(64).argParser(Number))
    .addOption(new Option('--folder-mib <n>', 'size of the folder renamed').default(100).argParser(Number))
    .addOption(
      new Option(
        '--insertions <n>',
        'insertions of 1 MiB, each synced: the first in the middle, the rest at random places in the middle half',
      )
        .default(1)
        .argParser(Number),
    )
    .addOption(
      new Option('--port-offset <n>', 'shift every port of the bench stack')
        .default(Number(process.env.FILESYNC_BENCH_PORT_OFFSET ?? 0))
        .argParser(Number),
    )
    .option('--json <file>', 'where the JSON goes (default .local/bench/delta-<time>.json)')
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const options = program.opts<{
    bigMib: number;
    folderMib: number;
    insertions: number;
    portOffset: number;
    json?: string;
  }>();
  if (!Number.isInteger(options.insertions) || options.insertions < 1)
    throw new Error('--insertions: expected a whole number >= 1');
  for (const [name, value] of [
    ['--big-mib', options.bigMib],
    ['--folder-mib', options.folderMib],
  ] as const) {
    if (!Number.isInteger(value) || value < 2) throw new Error(`${name}: expected a whole number >= 2`);
  }
  return {
    bigMiB: options.bigMib,
    folderMiB: options.folderMib,
    insertions: options.insertions,
    portOffset: options.portOffset,
    json: options.json,
  };
}

/** Random bytes (incompressible, no block repeats), written in 4 MiB pieces. */
async function randomFile(path: string, bytes: number): Promise<void> {
  const { randomBytes } = await import('node:crypto');
  const handle = await open(path, 'w');
  try {
    for (let written = 0; written < bytes;) {
      const piece = randomBytes(Math.min(4 * MiB, bytes - written));
      await handle.write(piece);
      written += piece.length;
    }
  } finally {
    await handle.close();
  }
}

/** Inserts `insert` at `offset` of the file (rewriting it: editors save the same way). */
async function insertAt(path: string, offset: number, insert: Buffer): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const before = await readFile(path);
  await writeFile(path, Buffer.concat([before.subarray(0, offset), insert, before.subarray(offset)]));
}

interface RsyncStats {
  /** "Total bytes sent": what crossed the wire from the sender, protocol included. */
  readonly sentBytes: number;
  /** "Literal data": file bytes the receiver had no basis for. */
  readonly literalBytes: number;
}

/** rsync of `from` onto `to` as a delta transfer (no whole-file shortcut on a local copy). */
async function rsyncStats(from: string, to: string): Promise<RsyncStats> {
  const { stdout } = await run(
    'rsync',
    ['-a', '--delete', '--no-whole-file', '--stats', `${from}/`, `${to}/`],
    {
      maxBuffer: 16 * MiB,
    },
  );
  const number = (label: string) =>
    Number(new RegExp(`${label}: ([\\d,]+)`).exec(stdout)?.[1]?.replaceAll(',', ''));
  return { sentBytes: number('Total bytes sent'), literalBytes: number('Literal data') };
}

interface SyncFigures {
  readonly uploadedBytes: number;
  readonly downloadedBytes: number;
  readonly moved: number;
  readonly seconds: number;
}

interface Row {
  readonly change: string;
  readonly sender: SyncFigures;
  readonly receiver: SyncFigures;
  readonly rsync: RsyncStats;
}

/**
 * Issue 8's byte figures: device 1 and device 2 hold a big random file and a folder of random
 * files, synced; rsync's copy of the folder holds the same. Then (1) 1 MiB of new bytes goes into
 * the middle of the big file, (2) the folder is renamed; after each, device 1 syncs (bytes it
 * uploads), device 2 syncs (bytes it downloads), and rsync carries the same change to its copy
 * (bytes sent, literal data). The acceptance: (1) uploads at most 1 MiB plus two average blocks,
 * (2) uploads and downloads no content.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const options = parsedOrExit(() => parseDeltaOptions(argv));
  if (!options) return;
  const commandLine = ['npm run bench:delta --', ...argv].join(' ');
  const machine = machineNow();
  const startedAt = new Date().toISOString();
  const root = repoRoot();
  const { commit, dirty } = await runInfo();
  say(`${commandLine} (commit ${commit}${dirty ? ', uncommitted changes' : ''})`);
  const jsonPath =
    options.json ?? join(root, '.local', 'bench', `delta-${startedAt.replaceAll(':', '-')}.json`);
  await mkdir(dirname(jsonPath), { recursive: true });
  const stackLog = createWriteStream(jsonPath.replace(/\.json$/, '') + '.stack.log');
  const work = await mkdtemp(join(tmpdir(), 'filesync-bench-delta-'));
  const rows: Row[] = [];
  try {
    say('building the services and the CLI, starting the bench stack');
    await Promise.all([buildServices(), buildClient()]);
    const { stack } = await startBenchStack(options.portOffset, work, stackLog);
    try {
      const { device, cli } = benchCli(stack.server, work);
      const one = device('device-1');
      const two = device('device-2');
      const sync = async (dev: BenchDevice): Promise<SyncFigures> => {
        const cost = await cli(dev.home, ['sync', dev.folder, '--json', '--create']);
        const summary = JSON.parse(cost.stdout) as {
          uploadedBytes: number;
          downloadedBytes: number;
          moved: number;
        };
        return {
          uploadedBytes: summary.uploadedBytes,
          downloadedBytes: summary.downloadedBytes,
          moved: summary.moved,
          seconds: cost.seconds,
        };
      };
      await cli(one.home, ['signup', '--email', 'delta-bench@example.com', '--device', 'd1']);
      await cli(two.home, ['login', '--email', 'delta-bench@example.com', '--device', 'd2']);

      say(`writing a ${options.bigMiB} MiB file and a folder of ${options.folderMiB} MiB`);
      await mkdir(join(one.folder, 'album'), { recursive: true });
      const big = join(one.folder, 'big.bin');
      await randomFile(big, options.bigMiB * MiB);
      for (let index = 0, left = options.folderMiB * MiB; left > 0; index++, left -= 4 * MiB) {
        await randomFile(join(one.folder, 'album', `photo-${index}.raw`), Math.min(4 * MiB, left));
      }
      say('first syncs of both devices; rsync copies the folder');
      await sync(one);
      await sync(two);
      const rsyncCopy = join(work, 'rsync-copy');
      await cp(one.folder, rsyncCopy, { recursive: true });

      const change = async (name: string, make: () => Promise<void>) => {
        await make();
        const sender = await sync(one);
        const receiver = await sync(two);
        const rsync = await rsyncStats(one.folder, rsyncCopy);
        rows.push({ change: name, sender, receiver, rsync });
        say(
          `  ${name}: uploaded ${sender.uploadedBytes} B, downloaded ${receiver.downloadedBytes} B; ` +
            `rsync sent ${rsync.sentBytes} B (literal ${rsync.literalBytes} B)`,
        );
      };
      const { randomBytes } = await import('node:crypto');
      for (let insertion = 0, size = options.bigMiB * MiB; insertion < options.insertions; insertion++) {
        // The middle half, so the insertion has whole blocks on both sides.
        const offset =
          insertion === 0 ? Math.floor(size / 2) : Math.floor(size / 4 + Math.random() * (size / 2));
        await change(`1 MiB inserted at byte ${offset} of the ${mib(size)} MiB file`, () =>
          insertAt(big, offset, randomBytes(MiB)),
        );
        size += MiB;
      }
      await change(`folder of ${options.folderMiB} MiB renamed`, () =>
        rename(join(one.folder, 'album'), join(one.folder, 'album-2026')),
      );
    } finally {
      await stack.stop();
    }
  } finally {
    stackLog.end();
    await rm(work, { recursive: true, force: true });
  }
  machine.loadAtEnd = loadavg().map((load) => +load.toFixed(2));
  const rsyncVersion = await quiet('rsync', ['--version']);
  const insertLimit = MiB + 2 * LIMITS.chunkAvgBytes;
  const inserts = rows
    .filter((row) => row.change.startsWith('1 MiB inserted'))
    .map((row) => row.sender.uploadedBytes);
  const sorted = [...inserts].sort((a, b) => a - b);
  const insertSummary = {
    insertions: inserts.length,
    withinLimit: inserts.filter((bytes) => bytes <= insertLimit).length,
    medianUploadedBytes: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
    mostUploadedBytes: sorted.at(-1) ?? 0,
  };
  const report = {
    command: commandLine,
    startedAt,
    commit,
    uncommittedChanges: dirty,
    machine,
    rsyncVersion,
    rows,
    insertLimitBytes: insertLimit,
    insertSummary,
  };
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    [
      '',
      '## Bytes moved for an insertion and a folder rename: filesync beside rsync',
      '',
      `- command: \`${commandLine}\`; commit ${commit}; started ${startedAt}; ${rsyncVersion}`,
      `- acceptance: the insertion uploads at most 1 MiB + two average blocks (${mib(insertLimit)} MiB); the rename uploads and downloads 0 bytes`,
      "- rsync: `rsync -a --delete --no-whole-file --stats` from device 1's folder onto a copy of it (sent: all bytes sent, protocol included; literal: file bytes without a basis)",
      '',
      '| change | filesync uploaded MiB | filesync downloaded MiB (other device) | moved | rsync sent MiB | rsync literal MiB |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (row) =>
          `| ${row.change} | ${mib(row.sender.uploadedBytes)} | ${mib(row.receiver.downloadedBytes)} | ${row.sender.moved} | ${mib(row.rsync.sentBytes)} | ${mib(row.rsync.literalBytes)} |`,
      ),
      '',
      `insertions: ${insertSummary.withinLimit} of ${insertSummary.insertions} within ${mib(insertLimit)} MiB; ` +
        `uploaded median ${mib(insertSummary.medianUploadedBytes)} MiB, most ${mib(insertSummary.mostUploadedBytes)} MiB`,
      '',
      `JSON: ${jsonPath}`,
      '',
    ].join('\n'),
  );
}
