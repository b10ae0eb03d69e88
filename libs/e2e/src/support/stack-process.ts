import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nodeBinary, repoRootOf, startRunner, stopRunner } from '@filesync/test-support/runner';
import { e2eDir, stackInfoFile, TEST_PORTS, TEST_QUEUE_VISIBILITY_SECONDS } from './harness';

/**
 * Builds the services and the CLI and starts the whole local stack once for the integration tier, in
 * local-stack's runner process (libs/local-stack/bin/stack-runner.mjs).
 */
export async function startTestStack(): Promise<void> {
  const root = repoRootOf();
  const dir = e2eDir(root);
  const stateDir = join(dir, 'state');
  const logFile = join(dir, 'stack.log');
  // A fresh signing key per run.
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  // The CLI too, so the tests that run node_modules/.bin/filesync run its bundle, as users do.
  for (const script of ['libs/local-stack/bin/build-services.mjs', 'libs/sync-client/tools/bundle.mjs'])
    execFileSync(nodeBinary(root), [join(root, script)], { cwd: root, stdio: 'inherit' });

  const infoFile = stackInfoFile(root);
  await startRunner({
    label: 'local stack',
    script: join(root, 'libs/local-stack/bin/stack-runner.mjs'),
    request: {
      basePort: TEST_PORTS.basePort,
      emulatorPorts: TEST_PORTS.emulatorPorts,
      stateDir,
      infoFile,
      logFile,
      queueVisibilityTimeoutSeconds: TEST_QUEUE_VISIBILITY_SECONDS,
    },
    infoFile,
    logs: logFile,
    failureLog: logFile,
    startupTimeoutMs: 180_000,
  });
}

export function stopTestStack(): Promise<void> {
  return stopRunner(stackInfoFile(), { killAfterMs: 20_000 });
}
