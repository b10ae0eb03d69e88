import { require as requireWithPaths } from 'tsx/cjs/api';
import type * as StackProcess from './support/stack-process';

/** Stops the stack global setup started and waits until its processes are gone (tsx: see global-setup.ts). */
export default async function globalTeardown(): Promise<void> {
  const { stopTestStack } = requireWithPaths('./support/stack-process', __filename) as typeof StackProcess;
  await stopTestStack();
}
