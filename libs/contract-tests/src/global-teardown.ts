import { require as requireWithPaths } from 'tsx/cjs/api';
import type * as StackProcess from './stack/stack-process';

/** Stops the stack global setup started (tsx: see global-setup.ts). */
export default async function globalTeardown(): Promise<void> {
  const { stopContractStack } = requireWithPaths('./stack/stack-process', __filename) as typeof StackProcess;
  await stopContractStack();
}
