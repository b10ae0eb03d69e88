// Worker entry: a worker thread does not necessarily share the loader of whatever started it
// (tsx for the CLI, jest's transform for tests), so it registers tsx itself (both its require
// hook and its ESM loader, as bin/filesync.mjs does) before loading the TypeScript.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';
import * as cjs from 'tsx/cjs/api';

process.env.TSX_TSCONFIG_PATH ??= workerData.tsconfig;
cjs.register();
register({ tsconfig: process.env.TSX_TSCONFIG_PATH });
await import('./hash-worker.ts');
