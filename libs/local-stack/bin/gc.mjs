// `npm run gc`: one garbage collection run against the local stack (see src/gc-command.ts).
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

// Our .ts files load as CommonJS (the root package is not "type": "module"): both hooks are needed.
register();
registerCjs();
const { main } = await import('../src/gc-command.ts');
await main();
