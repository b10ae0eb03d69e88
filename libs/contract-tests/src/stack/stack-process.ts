import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { nodeBinary, repoRootOf, startRunner, stopRunner } from '@filesync/test-support/runner';
import {
  CONTRACT_PORTS,
  contractDir,
  stackInfoFile,
  useLocalDocker,
  type RunnerRequest,
} from '../support/harness';

const SERVICES = ['auth', 'metadata', 'sync-diff', 'notifier'];

/**
 * Builds the service images when missing (`npm run images`), then starts the contract stack in
 * its runner process (libs/contract-tests/bin/contract-runner.mjs, see ./runner.ts).
 */
export async function startContractStack(): Promise<void> {
  // Inherited by the runner, and seen by the tests too: --runInBand runs them in this process.
  useLocalDocker();
  const root = repoRootOf();
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
    execFileSync(nodeBinary(root), [join(root, 'deploy/images/build.mjs')], { cwd: root, stdio: 'inherit' });
  }

  const infoFile = stackInfoFile(root);
  const logDir = join(contractDir(root), 'logs');
  const request: RunnerRequest = { ...CONTRACT_PORTS, infoFile, logDir };
  await startRunner({
    label: 'contract stack (service images + emulators)',
    script: join(root, 'libs/contract-tests/bin/contract-runner.mjs'),
    request,
    infoFile,
    logs: logDir,
    failureLog: join(logDir, 'emulators.log'),
    startupTimeoutMs: 180_000,
  });
}

/** Stops the containers, then the emulators, and waits until the runner is gone. */
export function stopContractStack(): Promise<void> {
  return stopRunner(stackInfoFile(), { killAfterMs: 30_000 });
}
