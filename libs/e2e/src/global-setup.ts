import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { harnessDir, repoRootOf, stackInfoFile, TEST_PORTS } from './support/harness';

declare global {
  var filesyncStackRunner: ChildProcess | undefined;
}

/**
 * Builds the services and starts the whole local stack once for the integration tier. The stack
 * runs in a runner process of its own (libs/local-stack/bin/stack-runner.mjs) because jest loads
 * this file without the TypeScript path mapping the stack's code uses.
 */
export default async function globalSetup(): Promise<void> {
  const root = repoRootOf();
  const node = existsSync(join(root, 'node_modules/.bin/node'))
    ? join(root, 'node_modules/.bin/node')
    : process.execPath;
  const dir = harnessDir(root);
  const infoFile = stackInfoFile(root);
  const logFile = join(dir, 'stack.log');
  rmSync(infoFile, { force: true });
  // A fresh signing key per run.
  rmSync(join(dir, 'state'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  execFileSync(node, [join(root, 'libs/local-stack/bin/build-services.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });

  const request = { ...TEST_PORTS, stateDir: join(dir, 'state'), infoFile, logFile };
  const runner = spawn(node, [join(root, 'libs/local-stack/bin/stack-runner.mjs'), JSON.stringify(request)], {
    cwd: root,
    // stdin stays open as the lifeline: the runner stops the stack when it closes.
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  globalThis.filesyncStackRunner = runner;

  const started = Date.now();
  const failed = (why: string) => new Error(`${why}; the last lines of ${logFile}:\n${tail(logFile, 40)}`);
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(infoFile)) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > 90_000) {
        clearInterval(timer);
        runner.kill('SIGTERM');
        reject(failed('the local stack did not come up within 90 s'));
      }
    }, 100);
    runner.once('exit', (code) => {
      clearInterval(timer);
      reject(failed(`the local stack runner exited with code ${code}`));
    });
  });
  runner.removeAllListeners('exit');
  process.stdout.write(
    `\nlocal stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (logs: ${logFile})\n`,
  );
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
