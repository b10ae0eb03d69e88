// `npm run bench:push`: runs the TypeScript benchmark through tsx, like `npm run bench` does.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

register();
registerCjs();
const { main } = await import('../src/push-latency.ts');
await main();
