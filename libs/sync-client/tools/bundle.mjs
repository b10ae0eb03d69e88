// `npm run build:client`: bundles the `filesync` CLI (src/cli/main.ts) and its hashing worker
// (src/hashing/hash-worker.ts) with esbuild into libs/sync-client/dist, which bin/filesync.mjs
// runs and `npm pack` ships (see package.json "files").
//
// Everything is inlined, the @filesync/* path aliases and every third-party package alike, so the
// package has no runtime dependencies: it installs offline with nothing to resolve, and a start
// reads a few files instead of walking node_modules (the AWS SDK alone is hundreds of modules).
// Code splitting keeps the start small: the CLI's first file holds commander and the command
// line; the client (gRPC, the AWS SDK, node:sqlite) is a chunk main.ts imports only when a
// command needs it. The worker and the chunks sit flat in dist/, where worker-hasher.ts looks for
// hash-worker.mjs (beside the module that spawns it).
//
// Last it records what the bundle was built from (tools/bundle-inputs.mjs), so the launcher in the
// repository never runs a bundle older than the sources.
import { build } from 'esbuild';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { esmRequireBanner } from '../../local-stack/bin/esm-require-banner.mjs';
import { fileStamp, INPUTS_FILE } from './bundle-inputs.mjs';

const started = Date.now();
const tools = dirname(fileURLToPath(import.meta.url));
const packageDir = dirname(tools);
const root = join(packageDir, '..', '..');
const dist = join(packageDir, 'dist');
const fromRoot = (path) => relative(root, path).split(sep).join('/');

// What shapes the bundle without being a module of it (the path aliases, the installed packages,
// this script and its banner): stamped before the build too.
const settings = [
  join(root, 'tsconfig.base.json'),
  // npm rewrites it whenever it changes node_modules: stands for every bundled package.
  join(root, 'node_modules', '.package-lock.json'),
  join(tools, 'bundle.mjs'),
  join(root, 'libs', 'local-stack', 'bin', 'esm-require-banner.mjs'),
];
const stamps = new Map(settings.map((path) => [fromRoot(path), fileStamp(path)]));

/** Loads the repository's own sources itself, stamping each before reading it. */
const stampSources = {
  name: 'stamp-sources',
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.([cm]?[jt]s|json)$/ }, async ({ path }) => {
      if (path.split(sep).includes('node_modules')) return undefined;
      stamps.set(fromRoot(path), fileStamp(path));
      const contents = await readFile(path);
      const loader = path.endsWith('.json') ? 'json' : /\.[cm]?ts$/.test(path) ? 'ts' : 'js';
      return { contents, loader };
    });
  },
};

// The record goes first, so no launcher trusts a half-written bundle.
rmSync(dist, { recursive: true, force: true });
let result;
try {
  result = await build({
    absWorkingDir: root,
    entryPoints: {
      filesync: join(packageDir, 'src', 'cli', 'main.ts'),
      'hash-worker': join(packageDir, 'src', 'hashing', 'hash-worker.ts'),
    },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    tsconfig: join(root, 'tsconfig.base.json'),
    banner: { js: esmRequireBanner },
    // Not minified: a crash prints a readable stack, and names survive in logged errors.
    legalComments: 'none',
    metafile: true,
    plugins: [stampSources],
    logLevel: 'warning',
  });
} catch {
  // esbuild already printed the errors with their locations.
  process.exit(1);
}

const packages = bundledPackages(Object.keys(result.metafile.inputs));
writeFileSync(join(dist, 'THIRD-PARTY-NOTICES.txt'), notices(packages));

const missing = [...stamps].filter(([, stamp]) => !stamp).map(([path]) => path);
if (missing.length > 0) {
  process.stderr.write(`bundle: cannot stamp ${missing.join(', ')}\n`);
  process.exit(1);
}
const record = join(dist, `${INPUTS_FILE}.tmp`);
writeFileSync(record, `${JSON.stringify({ inputs: Object.fromEntries([...stamps].sort()) }, null, 1)}\n`);
renameSync(record, join(dist, INPUTS_FILE));

const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
process.stdout.write(
  `built the filesync CLI (${(bytes / 1e6).toFixed(1)} MB in ${Object.keys(result.metafile.outputs).length} files, ` +
    `${packages.length} packages inlined) into ${fromRoot(dist)} in ${Date.now() - started} ms\n`,
);

/** The node_modules packages the bundle inlines: name, version, license and the folder they are in. */
function bundledPackages(inputs) {
  const dirs = new Set();
  for (const input of inputs) {
    const parts = input.split('/');
    const at = parts.lastIndexOf('node_modules');
    if (at < 0) continue;
    const length = parts[at + 1]?.startsWith('@') ? 3 : 2;
    dirs.add(join(root, ...parts.slice(0, at + length)));
  }
  return [...dirs]
    .map((dir) => {
      const { name, version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return { name, version, license: typeof license === 'string' ? license : 'see its package', dir };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Every inlined package with its license, and each distinct license or notice text once, after the
 * packages it covers (the AWS SDK's hundred packages share one Apache-2.0 text).
 */
function notices(inlined) {
  const texts = new Map();
  for (const pkg of inlined) {
    const files = readdirSync(pkg.dir).filter((name) => /^(licen[cs]e|copying|notice)/i.test(name));
    for (const file of files.sort()) {
      const text = readFileSync(join(pkg.dir, file), 'utf8').trim();
      texts.set(text, [...(texts.get(text) ?? []), `${pkg.name}@${pkg.version}`]);
    }
  }
  return [
    'The filesync CLI bundle (dist/*.mjs) inlines these packages:',
    '',
    ...inlined.map((pkg) => `  ${pkg.name}@${pkg.version}  ${pkg.license}`),
    '',
    ...[...texts].flatMap(([text, covered]) => ['-'.repeat(78), `${covered.join(', ')}:`, '', text, '']),
  ].join('\n');
}
