import { realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import type { FilesyncClient } from '../client';
import { DEFAULT_SERVER, insecureWarning } from '../config/server-addresses';
import type { TransportContext } from '../config/tls-errors';
import { MassDeleteError, SyncIncompleteError, type SyncSummary } from '../sync/summary';
import { registerAccountCommands } from './account-commands';
import { describeError } from './error-messages';
import {
  errorReport,
  exitCodeForError,
  exitCodeForServerCheck,
  exitCodeForSummary,
  EXIT,
  EXIT_CODES_HELP,
} from './exit-codes';
import { InterruptedError, withSignals } from './interrupt';
import { readPassword } from './password';
import { planLines, summaryLines, unlinkedLine } from './sync-output';
import { restoreLines, trashLines, versionLines } from './trash-output';

interface GlobalOptions {
  server?: string;
  home?: string;
  verbose: number;
  logFile?: string;
  tls?: boolean;
  insecure?: boolean;
  ca?: string;
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  // Only as the first argument: commander would take a program-level --version anywhere, and
  // `filesync restore PATH --version N` has an option of that name.
  if (argv[2] === '--version' || argv[2] === '-V') {
    process.stdout.write(`${packageJson.version}\n`);
    return EXIT.success;
  }
  const outcome: Outcome = { exitCode: EXIT.success, printedJson: false };
  const program = buildProgram(outcome);
  try {
    await program.parseAsync([...argv]);
    return outcome.exitCode;
  } catch (error) {
    const exitCode = exitCodeForError(error, outcome.transport);
    const options = program.opts<GlobalOptions>();
    const message = await describeError(error, {
      server: outcome.server ?? options.server ?? (process.env.FILESYNC_SERVER || DEFAULT_SERVER),
      command: outcome.command,
      email: outcome.email,
      transport: outcome.transport,
    });
    // Commander prints the usage errors it raises itself; one an action threw is ours to print.
    if (!(error instanceof CommanderError) || error instanceof InvalidArgumentError)
      process.stderr.write(`filesync: ${message}\n`);
    // As commander's own usage errors end (hintAfterUsageErrors).
    if (error instanceof InvalidArgumentError && outcome.command)
      process.stderr.write(`(\`filesync ${outcome.command} --help\` lists its arguments and options)\n`);
    // A script that asked for JSON always gets one object, even when the command line was wrong.
    if (wantsJson(argv) && exitCode !== EXIT.success && !outcome.printedJson)
      process.stdout.write(`${JSON.stringify(errorReport(error, message, outcome.transport))}\n`);
    return exitCode;
  }
}

interface Outcome {
  /** What a command that finished without throwing chose (0 unless it sets it). */
  exitCode: number;
  /** The command printed its own JSON object for the error it ended with. */
  printedJson: boolean;
  /** The deployment the command talked to (host:port), once the client was open. */
  server?: string;
  /**
   * How it connected, once the client was open: the flags alone do not say (`--insecure` to a
   * loopback server is loopback's plaintext, a session may have recorded grpcs://).
   */
  transport?: TransportContext;
  /** The command that ran, and the signed-in account: what the error message may name. */
  command?: string;
  email?: string;
}

/** `--json` among the arguments (before a `--`), whether or not commander got to parse them. */
function wantsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

function buildProgram(outcome: Outcome): Command {
  const program = new Command('filesync')
    .description('Keep folders in sync with filesync (`filesync --version` prints the version)')
    .option(
      '--server <[grpcs://]host[:port]>',
      'deployment to use (default: FILESYNC_SERVER, the signed-in one, then 127.0.0.1:50051); TLS unless loopback',
    )
    .option('--tls', 'TLS to a loopback server too (as grpcs:// does; kept by signup and login)')
    .option(
      '--insecure',
      'plaintext to a server that is not loopback (warns: everything crosses the network readable)',
    )
    .option('--ca <file>', 'trust this CA certificate (PEM) beside the system ones (default: FILESYNC_CA)')
    .option('--home <dir>', 'where the session and state live (default: FILESYNC_HOME, then ~/.filesync)')
    .option(
      '-v, --verbose',
      'log more (-v info, -vv debug; default: FILESYNC_LOG_LEVEL, then warn)',
      countFlag,
      0,
    )
    .option(
      '--log-file <file>',
      'append the log to FILE as JSON lines (default: stderr, human lines on a terminal)',
    )
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .exitOverride();
  program.hook('preAction', (_program, command) => {
    outcome.command = command.name();
  });
  // The progress line a sync draws on the terminal, which log lines must not be written onto.
  const terminal: { progress?: import('./progress-display').ProgressDisplay } = {};

  const withClient = async <T>(work: (client: FilesyncClient) => Promise<T>): Promise<T> => {
    const options = program.opts<GlobalOptions>();
    // Loaded here, not at the top: `--help` and usage errors never pay for gRPC, the AWS SDK and
    // node:sqlite (see bin/filesync.mjs on start time).
    const [{ FilesyncClient }, { cliLogger }] = await Promise.all([import('../client'), import('./logging')]);
    const logger = cliLogger({
      verbose: options.verbose,
      logFile: options.logFile,
      onTerminal: (write) => (terminal.progress ? terminal.progress.interleave(write) : write()),
    });
    const client = await FilesyncClient.open({
      home: options.home,
      server: options.server,
      transport: { tls: options.tls, insecure: options.insecure },
      ca: options.ca,
      logger,
    });
    outcome.server = client.server;
    outcome.transport = client.transport;
    outcome.email = client.signedInEmail;
    if (client.insecure) process.stderr.write(insecureWarning(client.server));
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
      '--watch',
      'keep DIR in sync until Ctrl-C: local changes and changes from other devices sync within a second',
    )
    .option(
      '--dry-run',
      'show what the pass would upload, download, delete and keep as conflicted copies; change nothing',
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
          watch?: boolean;
          dryRun?: boolean;
          remote?: string;
        },
      ) => {
        if (options.watch && options.dryRun)
          throw new InvalidArgumentError(
            '--dry-run is one pass that changes nothing: it cannot be used with --watch',
          );
        if (options.watch) {
          if (options.movedFrom !== undefined)
            throw new Error('--moved-from needs one pass first: run it without --watch, then with --watch');
          await withClient((client) => watchCommand(client, dir, options));
          return;
        }
        if (options.dryRun && (options.create || options.movedFrom !== undefined))
          throw new InvalidArgumentError(
            '--dry-run changes nothing: it cannot be used with --create or --moved-from',
          );
        // Progress goes to a terminal only: a script reading stdout or stderr gets none.
        const bar =
          process.stdout.isTTY && !options.json
            ? new (await import('./progress-display')).ProgressDisplay(process.stdout)
            : undefined;
        terminal.progress = bar;
        let summary: SyncSummary;
        try {
          summary = await withSignals(
            () =>
              withClient((client) =>
                client.sync(dir, {
                  onProgress: bar ? (progress) => bar.update(progress) : undefined,
                  create: options.create === true,
                  force: options.force === true,
                  maxDelete: options.maxDelete,
                  full: options.full === true,
                  movedFrom: options.movedFrom,
                  dryRun: options.dryRun === true,
                  remote: options.remote,
                }),
              ),
            (signal) => {
              bar?.stop();
              const interrupted = new InterruptedError(signal, bar?.report() ?? '');
              process.stderr.write(`filesync: ${interrupted.message}\n`);
              if (options.json)
                process.stdout.write(`${JSON.stringify(errorReport(interrupted, interrupted.message))}\n`);
              return exitCodeForError(interrupted);
            },
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
        if (summary.plan && !options.json)
          process.stdout.write(`${planLines(summary.plan, summary).join('\n')}\n`);
        else printSummary(summary, options.json);
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
      process.stdout.write(`${unlinkedLine(unlinked)}\n`);
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

  registerAccountCommands(program, { withClient, outcome, namespacePath });

  program
    .command('status')
    .description(
      'who is signed in, whether the server answers, and per synced folder: watched or not, last pass, local changes waiting, last error',
    )
    .option('--json', 'print the status as JSON')
    .option('--offline', 'do not ask the server')
    .action(async (options: { json?: boolean; offline?: boolean }) => {
      await withClient(async (client) => {
        const status = await client.status({ checkServer: options.offline !== true });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(status)}\n`);
        } else {
          process.stdout.write(`${(await import('./status-output')).statusLines(status).join('\n')}\n`);
        }
        outcome.exitCode = exitCodeForServerCheck(status.serverCheck);
      });
    });

  hintAfterUsageErrors(program, 'filesync');
  return program;
}

/**
 * After a usage error, one line saying where the usage is, not the whole help: the error would
 * scroll away above it.
 */
function hintAfterUsageErrors(command: Command, name: string): void {
  command.showHelpAfterError(
    command.parent
      ? `(\`${name} --help\` lists its arguments and options)`
      : `(\`${name} --help\` lists the commands and options; \`${name} COMMAND --help\` one command's)`,
  );
  for (const sub of command.commands) hintAfterUsageErrors(sub, `${name} ${sub.name()}`);
}

/**
 * `filesync sync DIR --watch`: passes until SIGINT or SIGTERM, one line per pass that changed
 * something (`--json`: one JSON object per line, for every event). The first signal stops at a
 * safe point (exit 0); a second one exits at once (EXIT.interrupted), as a crash would leave it.
 */
async function watchCommand(
  client: FilesyncClient,
  dir: string,
  options: { json?: boolean; create?: boolean; force?: boolean; maxDelete?: number; remote?: string },
): Promise<void> {
  const { watchEventLine } = await import('./watch-output');
  const { describeFailure } = await import('../failure-text');
  const describe = (error: unknown) =>
    describeFailure(error, {
      server: client.server,
      transport: client.transport,
      email: client.signedInEmail,
    });
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    if (!options.json)
      process.stderr.write(`filesync: ${signal}: stopping at a safe point (again to quit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await client.watch(dir, {
      signal: controller.signal,
      create: options.create === true,
      force: options.force === true,
      maxDelete: options.maxDelete,
      remote: options.remote,
      onEvent: (event) => {
        const line = options.json
          ? JSON.stringify(watchEventJson(event, describe))
          : watchEventLine(event, dir, describe);
        if (line === undefined) return;
        const failed = event.kind === 'pass-failed' || (event.kind === 'server' && !event.connected);
        (failed && !options.json ? process.stderr : process.stdout).write(`${line}\n`);
      },
    });
    if (!options.json) process.stdout.write('Stopped; the next sync resumes from here.\n');
    else process.stdout.write(`${JSON.stringify({ event: 'stopped' })}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A watch event as a JSON line: errors by their message. */
function watchEventJson(
  event: import('../watch/watch-folder').WatchEvent,
  describe: (error: unknown) => string,
): Record<string, unknown> {
  const { kind, ...rest } = event;
  const error = 'error' in rest && rest.error !== undefined ? { error: describe(rest.error) } : {};
  return { event: kind, ...rest, ...error };
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
  process.stdout.write(json ? `${JSON.stringify(summary)}\n` : `${summaryLines(summary).join('\n')}\n`);
}

/** Commander's way to count a repeated flag (`-vv`). */
function countFlag(_value: string, previous: number): number {
  return previous + 1;
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
  const { syncedFolders } = await client.status({ checkServer: false });
  const { namespacePathProblem, parseRemotePath, remotePathOf } = await import('../sync/remote-binding');
  for (const folder of syncedFolders) {
    if (absolute === folder.root) return remotePathOf(folder.remotePath, '');
    if (absolute.startsWith(folder.root + sep))
      return remotePathOf(folder.remotePath, relative(folder.root, absolute).split(sep).join('/'));
  }
  // Outside every synced folder: a path of the filesync folder, written as status and --remote
  // show them (`/Photos/a.jpg`) or without the slash. One the path rules refuse (`../../etc`) is
  // a wrong argument, said with what a right one looks like, before any server is asked.
  const problem = namespacePathProblem(input);
  if (problem !== undefined) {
    throw new InvalidArgumentError(
      `${input} is not inside a synced folder, and not a path of your filesync folder (${problem}): ` +
        'give a path inside a synced folder, or a path of your filesync folder from its top, such as ' +
        'docs/report.txt or /docs/report.txt (as `filesync trash`, `filesync following` and ' +
        '`filesync status` show them)',
    );
  }
  return input.startsWith('/') ? parseRemotePath(input) : input;
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
