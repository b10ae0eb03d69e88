// `node libs/e2e/bin/many-files.mjs [files]`: runs the TypeScript measurement through tsx.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

register();
registerCjs();
const { main } = await import('../src/measure/many-files.ts');
await main(process.argv.slice(2));
