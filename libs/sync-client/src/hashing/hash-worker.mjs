// Worker entry when the client runs from its sources (the bundle has its own hash-worker.mjs, see
// tools/bundle.mjs): a worker thread does not necessarily share the loader of whatever started it
// (tsx for the CLI, jest's transform for tests), so it registers tsx itself (both its require
// hook and its ESM loader, as tools/from-repository.mjs does) before loading the TypeScript; tsx
// finds the path aliases through the repository's tsconfig.json.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import * as cjs from 'tsx/cjs/api';

process.env.TSX_TSCONFIG_PATH ??= fileURLToPath(new URL('../../../../tsconfig.json', import.meta.url));
cjs.register();
register({ tsconfig: process.env.TSX_TSCONFIG_PATH });
await import('./hash-worker.ts');
