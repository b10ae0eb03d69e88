#!/usr/bin/env -S node --max-semi-space-size=4
// Entry of the `filesync` CLI.
// The flag caps V8's young generation at 4 MiB per semi-space (Node 24 lets it grow to 32 MiB,
// about 64 MiB of RSS once a sync of many files has churned through it): a sync allocates many
// short-lived objects, and a small nursery keeps the peak RSS down for a little more scavenging.
// V8 reads it only at start-up, so it must be on the command line: `npx filesync` and
// node_modules/.bin/filesync run this line (`env -S` splits it: coreutils 8.30+, macOS, npm's
// Windows shims); `node bin/filesync.mjs` runs without it (correct, just a larger peak).
// It runs the TypeScript sources through tsx's loader, so the CLI
// needs no build step. Everything below the version check is loaded dynamically: older Node
// versions must reach the check before anything they cannot run.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `filesync needs Node.js 24 or newer, but this is Node.js ${process.version}.\n` +
      'Run it as `npx filesync` from the repository (npm puts the pinned Node 24 on PATH) or install Node 24.\n',
  );
  process.exit(1);
}

// V8 lets the old generation grow up to several times what survived the last full collection
// before collecting again; a first sync of 100,000 files reached 290 MiB of heap with about 110
// MiB alive. Growing by a fixed 25% instead costs a few more collections (no measurable CPU) and
// keeps the heap near what is alive. V8 reads this flag at every collection, so it can be set here.
(await import('node:v8')).setFlagsFromString('--heap-growing-percent=25');

// File operations run on libuv's thread pool (4 threads by default): a download of thousands of
// small files makes a dozen of them per file. Read when the pool starts, so set before any I/O.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { fileURLToPath } = await import('node:url');
// The sources are CommonJS-flavoured TypeScript (the repository has no "type": "module"), so
// tsx's require hook is needed besides its ESM loader; it finds the path aliases through
// TSX_TSCONFIG_PATH, which also reaches the hashing worker threads.
process.env.TSX_TSCONFIG_PATH ??= fileURLToPath(new URL('../../../tsconfig.json', import.meta.url));
const [{ register }, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
cjs.register();
register({ tsconfig: process.env.TSX_TSCONFIG_PATH });
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
