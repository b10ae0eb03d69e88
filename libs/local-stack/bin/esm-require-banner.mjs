// The banner of an esbuild bundle in ESM that inlines CommonJS packages: their code still calls
// require() (node: built-ins) and reads __dirname, which an ES module does not have. Used by the
// service images (deploy/images/build.mjs) and the filesync CLI (libs/sync-client/tools/bundle.mjs).
export const esmRequireBanner = [
  "import { createRequire as __filesyncCreateRequire } from 'node:module';",
  "import { fileURLToPath as __filesyncFileURLToPath } from 'node:url';",
  "import { dirname as __filesyncDirname } from 'node:path';",
  'const require = __filesyncCreateRequire(import.meta.url);',
  'const __filename = __filesyncFileURLToPath(import.meta.url);',
  'const __dirname = __filesyncDirname(__filename);',
].join('\n');
