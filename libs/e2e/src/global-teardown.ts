import { rmSync } from 'node:fs';
import { stackInfoFile } from './support/harness';

/** Stops the stack global setup started and waits until its processes are gone. */
export default async function globalTeardown(): Promise<void> {
  rmSync(stackInfoFile(), { force: true });
  const runner = globalThis.filesyncStackRunner;
  if (!runner || runner.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => runner.once('exit', () => resolve()));
  runner.kill('SIGTERM');
  const timer = setTimeout(() => runner.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}
