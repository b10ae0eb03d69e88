// `npm run bench:files -- --files 10000 --big 1GiB`: runs the TypeScript benchmark through tsx, like `npm run bench`.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

register();
registerCjs();
const { main } = await import('../src/files-vs-peers.ts');
await main();
