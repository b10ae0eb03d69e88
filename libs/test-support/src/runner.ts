// Node built-ins only: jest's global setup loads this through tsx (see the tiers' global-setup.ts),
// and a runner's lifetime must not depend on anything the tests import.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

declare global {
  /** Runners by info file: global setup and teardown share jest's process, not module instances. */
  var filesyncRunners: Map<string, ChildProcess> | undefined;
}

export function repoRootOf(from = process.cwd()): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json at or above ${from}`);
  }
}

/** A test tier's working folder below .local (git-ignored): state, logs, the info file. */
export function harnessDir(tier: string, root = repoRootOf()): string {
  return join(root, '.local', tier);
}

/** The repository's pinned Node (node_modules/.bin/node) when installed, else the one running us. */
export function nodeBinary(root = repoRootOf()): string {
  const pinned = join(root, 'node_modules/.bin/node');
  return existsSync(pinned) ? pinned : process.execPath;
}

/** The running stack as the runner described it (env set in global setup does not reach workers). */
export function readRunnerInfo<T>(infoFile: string): T {
  return JSON.parse(readFileSync(infoFile, 'utf8')) as T;
}

export interface RunnerOptions {
  /** What runs, for messages: "local stack". */
  readonly label: string;
  /** A Node script that takes `request` as JSON in argv[2] and writes `infoFile` once up. */
  readonly script: string;
  readonly request: object;
  readonly infoFile: string;
  /** Shown when the runner is up. */
  readonly logs: string;
  /** Its last lines are quoted when the runner fails to come up. */
  readonly failureLog: string;
  readonly startupTimeoutMs: number;
}

/**
 * Starts a runner process and resolves once it wrote its info file. Its stdin stays open as the
 * lifeline: a runner stops its stack when stdin closes, so a killed jest leaves nothing behind.
 */
export async function startRunner(options: RunnerOptions): Promise<void> {
  const root = repoRootOf();
  rmSync(options.infoFile, { force: true });
  const runner = spawn(nodeBinary(root), [options.script, JSON.stringify(options.request)], {
    cwd: root,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  globalThis.filesyncRunners ??= new Map();
  globalThis.filesyncRunners.set(options.infoFile, runner);

  const started = Date.now();
  const failed = (why: string) =>
    new Error(`${why}; the last lines of ${options.failureLog}:\n${tail(options.failureLog, 40)}`);
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(options.infoFile)) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > options.startupTimeoutMs) {
        clearInterval(timer);
        runner.kill('SIGTERM');
        reject(failed(`the ${options.label} did not come up within ${options.startupTimeoutMs / 1000} s`));
      }
    }, 100);
    runner.once('exit', (code) => {
      clearInterval(timer);
      reject(failed(`the ${options.label} runner exited with code ${code}`));
    });
  });
  runner.removeAllListeners('exit');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`\n${options.label} up in ${seconds} s (logs: ${options.logs})\n`);
}

/** Stops the runner startRunner left for `infoFile` and waits until its process is gone. */
export async function stopRunner(infoFile: string, { killAfterMs }: { killAfterMs: number }): Promise<void> {
  rmSync(infoFile, { force: true });
  const runner = globalThis.filesyncRunners?.get(infoFile);
  globalThis.filesyncRunners?.delete(infoFile);
  if (!runner || runner.exitCode !== null || runner.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => runner.once('exit', () => resolve()));
  runner.kill('SIGTERM');
  const timer = setTimeout(() => runner.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
