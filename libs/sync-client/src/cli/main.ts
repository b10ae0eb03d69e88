import { realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { FilesyncClient } from '../client';
import { InvalidServerError } from '../config/server-addresses';
import { MassDeleteError, SyncIncompleteError, type SyncSummary } from '../sync/summary';
import { errorReport, exitCodeForError, exitCodeForSummary, EXIT } from './exit-codes';
import { readPassword } from './password';
import { restoreLines, trashLines, versionLines } from './trash-output';

interface GlobalOptions {
  server?: string;
  home?: string;
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const outcome: Outcome = { exitCode: EXIT.success, printedJson: false };
  const program = buildProgram(outcome);
  try {
    await program.parseAsync([...argv]);
    return outcome.exitCode;
  } catch (error) {
    const exitCode = exitCodeForError(error);
    const message = await describeError(error);
    if (!(error instanceof CommanderError)) process.stderr.write(`filesync: ${message}\n`);
    // A script that asked for JSON always gets one object, even when the command line was wrong.
    if (wantsJson(argv) && exitCode !== EXIT.success && !outcome.printedJson)
      process.stdout.write(`${JSON.stringify(errorReport(error, message))}\n`);
    return exitCode;
  }
}

interface Outcome {
  /** What a command that finished without throwing chose (0 unless it sets it). */
  exitCode: number;
  /** The command printed its own JSON object for the error it ended with. */
  printedJson: boolean;
}

/** `--json` among the arguments (before a `--`), whether or not commander got to parse them. */
function wantsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

function buildProgram(outcome: Outcome): Command {
  const program = new Command('filesync')
    .description('Keep folders in sync with filesync')
    .option('--server <host[:port]>', 'deployment to use (default: FILESYNC_SERVER, then 127.0.0.1:50051)')
    .option('--home <dir>', 'where the session and state live (default: FILESYNC_HOME, then ~/.filesync)')
    .exitOverride()
    .showHelpAfterError();

  const withClient = async <T>(work: (client: FilesyncClient) => Promise<T>): Promise<T> => {
    const options = program.opts<GlobalOptions>();
    // Loaded here, not at the top: `--help` and usage errors never pay for gRPC, the AWS SDK and
    // node:sqlite (see bin/filesync.mjs on start time).
    const { FilesyncClient } = await import('../client');
    const client = await FilesyncClient.open({ home: options.home, server: options.server });
    try {
      return await work(client);
    } finally {
      await client.close();
    }
  };

  program
    .command('signup')
    .description('create an account and sign this device in (password from FILESYNC_PASSWORD or stdin)')
    .requiredOption('--email <address>', 'email address of the new account')
    .option('--device <name>', 'name of this device')
    .action(async (options: { email: string; device?: string }) => {
      const password = await readPassword();
      const account = await withClient((client) => client.signup(options.email, password, options.device));
      process.stdout.write(
        `Signed up ${account.email}; this device is ${account.deviceName} (${account.deviceId}).\n`,
      );
    });

  program
    .command('login')
    .description('sign this device in (password from FILESYNC_PASSWORD or stdin)')
    .requiredOption('--email <address>', 'email address of the account')
    .option('--device <name>', 'name of this device')
    .action(async (options: { email: string; device?: string }) => {
      const password = await readPassword();
      const account = await withClient((client) => client.login(options.email, password, options.device));
      process.stdout.write(
        `Logged in as ${account.email}; this device is ${account.deviceName} (${account.deviceId}).\n`,
      );
    });

  program
    .command('sync')
    .description('one two-way sync pass of DIR with your filesync folder')
    .argument('<dir>', 'local folder to sync')
    .option('--json', 'print the summary as one JSON object')
    .option(
      '--create',
      'create DIR if it is missing (a folder synced before starts over: everything downloads)',
    )
    .option('--force', 'go on with a pass that deletes many files at once (the mass-delete guard)')
    .option('--max-delete <n>', 'stop before a pass that would delete more than N files', parseCount)
    .option(
      '--full',
      'compare the whole folder with the server (passes are otherwise incremental after the first, with a full one daily)',
    )
    .option(
      '--moved-from <old>',
      'DIR is the synced folder OLD moved to a new place: its sync state moves with it (OLD must be gone)',
    )
    .option(
      '--remote <path>',
      'bind DIR to this folder of your filesync folder, e.g. /Photos (default: / for a new folder; a bound folder keeps its path)',
    )
    .action(
      async (
        dir: string,
        options: {
          json?: boolean;
          create?: boolean;
          force?: boolean;
          maxDelete?: number;
          full?: boolean;
          movedFrom?: string;
          remote?: string;
        },
      ) => {
        const bar =
          process.stdout.isTTY && !options.json
            ? new (await import('./progress-bar')).SyncProgressBar()
            : undefined;
        let summary: SyncSummary;
        try {
          summary = await withClient((client) =>
            client.sync(dir, {
              onProgress: bar ? (progress) => bar.update(progress) : undefined,
              create: options.create === true,
              force: options.force === true,
              maxDelete: options.maxDelete,
              full: options.full === true,
              movedFrom: options.movedFrom,
              remote: options.remote,
            }),
          );
        } catch (error) {
          bar?.stop();
          if (error instanceof MassDeleteError && options.json) {
            process.stdout.write(`${JSON.stringify(massDeleteReport(error))}\n`);
            outcome.printedJson = true;
          } else if (error instanceof SyncIncompleteError || error instanceof MassDeleteError) {
            printSummary(error.summary, options.json);
            outcome.printedJson = options.json === true;
          }
          throw error;
        }
        bar?.stop();
        printSummary(summary, options.json);
        outcome.exitCode = exitCodeForSummary(summary);
      },
    );

  program
    .command('unlink')
    .alias('forget')
    .description(
      'stop syncing DIR and forget its binding (its files stay, here and on the server; a later sync is a first sync)',
    )
    .argument('<dir>', 'a synced folder, as `filesync status` lists it')
    .action(async (dir: string) => {
      const unlinked = await withClient((client) => client.unlink(dir));
      process.stdout.write(
        `Unlinked ${unlinked.root} from /${unlinked.remotePath} (${unlinked.files} files were synced); ` +
          'no file was changed.\n',
      );
    });

  program
    .command('follow')
    .description(
      'get an email when a file or folder changes (a path in your filesync folder or below a synced folder)',
    )
    .argument('<path>', "file or folder; '/' follows everything")
    .action(async (path: string) => {
      await withClient(async (client) => {
        const target = await namespacePath(client, path);
        await client.follow(target);
        process.stdout.write(`Following ${target === '' ? 'everything' : target}.\n`);
      });
    });

  program
    .command('verify')
    .description('confirm your email address with the code from the verification mail')
    .argument('[code]', 'the code from the mail')
    .option('--resend', 'mail a new code instead')
    .action(async (code: string | undefined, options: { resend?: boolean }) => {
      await withClient(async (client) => {
        if (options.resend) {
          const already = await client.resendVerificationEmail();
          process.stdout.write(
            already
              ? 'Your email address is verified already.\n'
              : 'Sent a new code: run `filesync verify CODE`.\n',
          );
          return;
        }
        if (!code)
          throw new Error('give the code from the verification mail: filesync verify CODE (or --resend)');
        await client.verifyEmail(code);
        process.stdout.write('Email address verified: you can follow files and folders now.\n');
      });
    });

  program
    .command('versions')
    .description('list the versions of a file, newest first')
    .argument('<path>', 'a path in your filesync folder or below a synced folder')
    .option('--json', 'print the versions as JSON')
    .action(async (path: string, options: { json?: boolean }) => {
      await withClient(async (client) => {
        const versions = await client.versionHistory(await namespacePath(client, path));
        process.stdout.write(
          options.json ? `${JSON.stringify(versions)}\n` : `${versionLines(versions).join('\n')}\n`,
        );
      });
    });

  program
    .command('trash')
    .description('list deleted files that can still be restored, at or below PATH (default: everything)')
    .argument('[path]', 'a file or folder in your filesync folder or below a synced folder')
    .option('--json', 'print the deleted files as JSON')
    .action(async (path: string | undefined, options: { json?: boolean }) => {
      await withClient(async (client) => {
        const target = path === undefined ? '' : await namespacePath(client, path);
        const items = await client.trash(target);
        process.stdout.write(
          options.json ? `${JSON.stringify(items)}\n` : `${trashLines(items, target).join('\n')}\n`,
        );
      });
    });

  program
    .command('restore')
    .description(
      'bring back a deleted file, every deleted file below a folder, or (--version N) an older version ' +
        'of a file, as new versions; nothing is uploaded and a file made again since is never overwritten',
    )
    .argument('<path>', 'a file or folder in your filesync folder or below a synced folder')
    .option('--version <n>', 'restore version N of the file (see `filesync versions`)', parseVersion)
    .option('--json', 'print what was restored and what was not as JSON')
    .action(async (path: string, options: { version?: number; json?: boolean }) => {
      await withClient(async (client) => {
        const target = await namespacePath(client, path);
        if (target === '') throw new Error('name a file or folder to restore, not the whole synced folder');
        const report = await client.restore(target, { version: options.version });
        process.stdout.write(
          options.json ? `${JSON.stringify(report)}\n` : `${restoreLines(report).join('\n')}\n`,
        );
        // Like a sync pass that skipped paths: the rest was done, these were not.
        if (report.refused.length > 0) outcome.exitCode = EXIT.incomplete;
      });
    });

  program
    .command('status')
    .description('who is signed in and which folders are synced')
    .option('--json', 'print the status as JSON')
    .action(async (options: { json?: boolean }) => {
      await withClient(async (client) => {
        const status = await client.status();
        if (options.json) {
          process.stdout.write(`${JSON.stringify(status)}\n`);
          return;
        }
        const lines = [
          `Signed in as ${status.email} (user ${status.userId})`,
          `Device ${status.deviceName} (${status.deviceId})`,
          `Server ${status.server}, namespace ${status.namespaceId}`,
          `Home ${status.home}`,
          ...(status.syncedFolders.length === 0 ? ['No folder synced yet.'] : ['Synced folders:']),
          ...status.syncedFolders.map(
            (folder) =>
              `  ${folder.root} <-> /${folder.remotePath}: ${folder.files} files, last sync ${folder.lastSyncAtMs ? new Date(folder.lastSyncAtMs).toISOString() : 'never'}`,
          ),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  return program;
}

/** `filesync sync --json` when the mass-delete guard stopped the pass: what it would delete, and why. */
function massDeleteReport(error: MassDeleteError) {
  return {
    stopped: 'mass-delete',
    wouldDelete: error.wouldDelete,
    live: error.live,
    refusedByServer: error.refusedByServer,
    ...errorReport(error, error.message),
    ...error.summary,
  };
}

function printSummary(summary: SyncSummary, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  const lines = [
    `Uploaded ${summary.filesUploaded} files (${summary.uploadedBlocks} blocks, ${mib(summary.uploadedBytes)}), ` +
      `downloaded ${summary.filesDownloaded} files (${summary.downloadedBlocks} blocks, ${mib(summary.downloadedBytes)}` +
      (summary.reusedBlocks > 0 ? `; ${mib(summary.reusedBytes)} more copied from files already here` : '') +
      '), ' +
      `${summary.deleted} deleted, ${summary.conflicts} conflicts.`,
  ];
  if (summary.skipped.length > 0 || summary.failed.length > 0) {
    lines.push(
      `Not synced: ${summary.skipped.length} skipped, ${summary.failed.length} failed (the rest is in sync):`,
      ...listed(summary.skipped.map((skip) => `  skipped ${JSON.stringify(skip.path)}: ${skip.reason}`)),
      ...listed(
        summary.failed.map((failure) => `  failed ${JSON.stringify(failure.path)}: ${failure.reason}`),
      ),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The first lines of a long list, and how many more there are (--json lists them all). */
function listed(lines: readonly string[], shown = 20): string[] {
  return lines.length <= shown
    ? [...lines]
    : [...lines.slice(0, shown), `  ... and ${lines.length - shown} more (--json lists them all)`];
}

function parseVersion(value: string): number {
  const version = Number(value);
  if (!Number.isSafeInteger(version) || version < 1)
    throw new InvalidArgumentError('expected a version number, 1 or more');
  return version;
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isSafeInteger(count) || count < 0)
    throw new InvalidArgumentError('expected a whole number of files, 0 or more');
  return count;
}

/**
 * A path as the user typed it, made namespace-relative: a local path inside a synced folder is
 * taken relative to that folder and put below the folder's remote path; anything else is already
 * a namespace path.
 */
async function namespacePath(client: FilesyncClient, input: string): Promise<string> {
  if (input.trim() === '' || input.trim() === '/') return '';
  const absolute = await realLocation(resolve(input));
  const { syncedFolders } = await client.status();
  const { remotePathOf } = await import('../sync/remote-binding');
  for (const folder of syncedFolders) {
    if (absolute === folder.root) return remotePathOf(folder.remotePath, '');
    if (absolute.startsWith(folder.root + sep))
      return remotePathOf(folder.remotePath, relative(folder.root, absolute).split(sep).join('/'));
  }
  return input;
}

/**
 * The real path of a file, or below the nearest folder of it that still exists when the file
 * (or its folders) are gone: deleted files and folders are still named by their local paths.
 */
async function realLocation(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(await realLocation(parent), basename(path));
  }
}

/** One line: the gRPC status and its details, or the error message. */
export async function describeError(error: unknown): Promise<string> {
  // A gRPC error (grpcCode of @filesync/contracts, not imported here: it would load gRPC at every
  // start) comes from a command that has loaded @grpc/grpc-js already.
  const code = (error as Partial<ServiceError> | null | undefined)?.code;
  if (typeof code === 'number') {
    const { status: grpcStatus } = await import('./grpc-status');
    const details = (error as ServiceError).details || (error as Error).message;
    return `${grpcStatus[code] ?? `status ${code}`}: ${details}`;
  }
  if (error instanceof InvalidServerError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
