// `npm start`: runs the TypeScript local stack through tsx (see src/start-command.ts).
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

// Our .ts files load as CommonJS (the root package is not "type": "module"): both hooks are needed.
register();
registerCjs();
const { main } = await import('../src/start-command.ts');
await main();
