// What bin/filesync.mjs runs inside the repository (where src/ is): the bundle in dist/ while it
// was built from the sources as they are now (tools/bundle-inputs.mjs), otherwise the sources
// through tsx, as before there was a bundle. So the bundle never runs stale: after an edit, a
// checkout or an `npm install`, the CLI compiles its sources at every start (about 0.7 s more)
// until `npm run build:client` (or `npm start`, `npm test`, `npm ci`) bundles them again.
import { fileURLToPath } from 'node:url';
import { changedInputs } from './bundle-inputs.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The URL of the module whose `main(argv)` runs the CLI. */
export async function cliEntry() {
  const bundle = new URL('../dist/filesync.mjs', import.meta.url);
  if (changedInputs(root, fileURLToPath(new URL('../dist/', import.meta.url))).length === 0) return bundle;
  // The sources are CommonJS-flavoured TypeScript (the repository has no "type": "module"), so
  // tsx's require hook is needed besides its ESM loader; it finds the path aliases through
  // TSX_TSCONFIG_PATH, which also reaches the hashing worker threads.
  process.env.TSX_TSCONFIG_PATH ??= `${root}tsconfig.json`;
  const [{ register }, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  cjs.register();
  register({ tsconfig: process.env.TSX_TSCONFIG_PATH });
  return new URL('../src/cli/main.ts', import.meta.url);
}
