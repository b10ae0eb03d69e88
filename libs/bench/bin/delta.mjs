// `npm run bench:delta`: runs the TypeScript benchmark through tsx, like `npm run bench`.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

register();
registerCjs();
const { main } = await import('../src/delta.ts');
await main();
