#!/usr/bin/env -S node --max-semi-space-size=4
// Entry of the `filesync` CLI.
// The flag caps V8's young generation at 4 MiB per semi-space (Node 24 lets it grow to 32 MiB,
// about 64 MiB of RSS once a sync of many files has churned through it): a sync allocates many
// short-lived objects, and a small nursery keeps the peak RSS down for a little more scavenging.
// V8 reads it only at start-up, so it must be on the command line: `npx filesync` and
// node_modules/.bin/filesync run this line (`env -S` splits it: coreutils 8.30+, macOS, npm's
// Windows shims); `node bin/filesync.mjs` runs without it (correct, just a larger peak).
// It runs the bundle in ../dist (tools/bundle.mjs: JavaScript, nothing compiled at start); inside
// the repository, where ../src is, tools/from-repository.mjs picks the bundle or, when the bundle
// is missing or older than the sources, the sources through tsx. Everything below the version
// check is loaded dynamically: older Node versions must reach the check before anything they
// cannot run.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `filesync needs Node.js 24 or newer, but this is Node.js ${process.version}.\n` +
      'Install Node.js 24 (in the repository, `npx filesync` runs the pinned Node 24 that npm puts on PATH).\n',
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

// Node's deprecation warnings speak to the authors of the code, not to its users; one (DEP0123)
// would print whenever gRPC opens TLS to a server named by an IP address (grpc-js passes the
// address as the TLS server name).
process.noDeprecation = true;

// V8 keeps the code it compiled for each module file (os.tmpdir()/node-compile-cache, keyed by the
// file's content): later starts skip compiling the client's chunks. A no-op where not writable.
(await import('node:module')).enableCompileCache?.();
const { existsSync } = await import('node:fs');
const entry = existsSync(new URL('../src/', import.meta.url))
  ? await (await import('../tools/from-repository.mjs')).cliEntry()
  : new URL('../dist/filesync.mjs', import.meta.url);
const { main } = await import(entry);
process.exitCode = await main(process.argv);
