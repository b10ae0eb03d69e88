import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONTRACT_PORTS,
  harnessDir,
  repoRootOf,
  stackInfoFile,
  useLocalDocker,
  type RunnerRequest,
} from './support/harness';

declare global {
  var filesyncContractRunner: ChildProcess | undefined;
}

const SERVICES = ['auth', 'metadata', 'sync-diff', 'notifier'];
const STARTUP_TIMEOUT_MS = 180_000;

/**
 * Builds the service images when missing (`npm run images`), then starts the contract stack in
 * a runner process (libs/contract-tests/bin/contract-runner.mjs): jest loads this file without
 * the TypeScript path mapping the stack's code uses.
 */
export default async function globalSetup(): Promise<void> {
  // Inherited by the runner, and seen by the tests too: --runInBand runs them in this process.
  useLocalDocker();
  const root = repoRootOf();
  const node = existsSync(join(root, 'node_modules/.bin/node'))
    ? join(root, 'node_modules/.bin/node')
    : process.execPath;
  const infoFile = stackInfoFile(root);
  const logDir = join(harnessDir(root), 'logs');
  rmSync(infoFile, { force: true });

  if (spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      'Docker is not reachable: the contract tests need a running dockerd ' +
        '(e.g. `dockerd --bridge=none --iptables=false &`; .ci/run starts one)',
    );
  }
  const missing = SERVICES.filter(
    (name) =>
      spawnSync('docker', ['image', 'inspect', `filesync/${name}:latest`], { stdio: 'ignore' }).status !== 0,
  );
  if (missing.length > 0) {
    process.stdout.write(`\nimages missing (${missing.join(', ')}): running npm run images\n`);
    execFileSync(node, [join(root, 'deploy/images/build.mjs')], { cwd: root, stdio: 'inherit' });
  }

  const request: RunnerRequest = { ...CONTRACT_PORTS, infoFile, logDir };
  const runner = spawn(
    node,
    [join(root, 'libs/contract-tests/bin/contract-runner.mjs'), JSON.stringify(request)],
    {
      cwd: root,
      // stdin stays open as the lifeline: the runner stops the stack when it closes.
      stdio: ['pipe', 'inherit', 'inherit'],
    },
  );
  globalThis.filesyncContractRunner = runner;

  const started = Date.now();
  const emulatorLog = join(logDir, 'emulators.log');
  const failed = (why: string) =>
    new Error(`${why}; the last lines of ${emulatorLog}:\n${tail(emulatorLog, 30)}`);
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(infoFile)) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > STARTUP_TIMEOUT_MS) {
        clearInterval(timer);
        runner.kill('SIGTERM');
        reject(failed(`the contract stack did not come up within ${STARTUP_TIMEOUT_MS / 1000} s`));
      }
    }, 100);
    runner.once('exit', (code) => {
      clearInterval(timer);
      reject(failed(`the contract stack runner exited with code ${code}`));
    });
  });
  runner.removeAllListeners('exit');
  process.stdout.write(
    `\ncontract stack (service images + emulators) up in ${((Date.now() - started) / 1000).toFixed(1)} s (logs: ${logDir})\n`,
  );
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
