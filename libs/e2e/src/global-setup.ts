import { require as requireWithPaths } from 'tsx/cjs/api';
import type * as StackProcess from './support/stack-process';

/**
 * jest loads global setup without the path mapping the tests get; tsx (which the runner bins use
 * too) resolves the `@filesync/*` imports from tsconfig.
 */
export default async function globalSetup(): Promise<void> {
  const { startTestStack } = requireWithPaths('./support/stack-process', __filename) as typeof StackProcess;
  await startTestStack();
}
