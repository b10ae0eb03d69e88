// Runs the contract tests' stack for jest's global setup: see src/stack/runner.ts.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

// Our .ts files load as CommonJS (the root package is not "type": "module"): both hooks are needed.
register();
registerCjs();
const { main } = await import('../src/stack/runner.ts');
try {
  await main();
} catch (error) {
  process.stderr.write(`contract runner failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
