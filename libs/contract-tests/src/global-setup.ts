import { require as requireWithPaths } from 'tsx/cjs/api';
import type * as StackProcess from './stack/stack-process';

/**
 * jest loads global setup without the path mapping the tests get; tsx (which the runner bins use
 * too) resolves the `@filesync/*` imports from tsconfig.
 */
export default async function globalSetup(): Promise<void> {
  const { startContractStack } = requireWithPaths('./stack/stack-process', __filename) as typeof StackProcess;
  await startContractStack();
}
