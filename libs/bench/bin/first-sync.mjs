// `npm run bench`: runs the TypeScript benchmark through tsx, like `npm start` does.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

register();
registerCjs();
const { main } = await import('../src/first-sync.ts');
await main();
