import { rmSync } from 'node:fs';
import { stackInfoFile } from './support/harness';

/** Stops the stack global setup started (containers, then emulators) and waits until it is gone. */
export default async function globalTeardown(): Promise<void> {
  rmSync(stackInfoFile(), { force: true });
  const runner = globalThis.filesyncContractRunner;
  if (!runner || runner.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => runner.once('exit', () => resolve()));
  runner.kill('SIGTERM');
  const timer = setTimeout(() => runner.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}
