// `npm run bench:watch -- --writes 200`: runs the TypeScript benchmark through tsx, like `npm run bench`.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

register();
registerCjs();
const { main } = await import('../src/watch-latency.ts');
await main();
