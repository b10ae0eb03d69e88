// `npm run pack:client [-- DIR]`: the client as the npm package people install. Bundles it afresh
// (tools/bundle.mjs), runs `npm pack` of libs/sync-client into DIR (default dist/packages), and
// checks the tarball: the launcher, the bundle with its hashing worker and the third-party notices,
// a package.json without dependencies (everything is inlined), nothing of src/ or tools/. Prints
// the tarball's path on stdout; exits 1 when the check fails.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const tools = dirname(fileURLToPath(import.meta.url));
const packageDir = dirname(tools);
const root = join(packageDir, '..', '..');
const destination = resolve(process.argv[2] ?? join(root, 'dist', 'packages'));
mkdirSync(destination, { recursive: true });

// Its own process, so its report goes to stderr here and stdout stays the tarball's path alone.
execFileSync(process.execPath, [join(tools, 'bundle.mjs')], { stdio: ['ignore', 2, 2] });
// prepack would bundle again (it is there for a plain `npm pack` in libs/sync-client).
const [packed] = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], {
    cwd: packageDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }),
);

const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const paths = packed.files.map((file) => file.path);
const problems = [
  ...[
    'package.json',
    manifest.bin.filesync,
    'dist/filesync.mjs',
    'dist/hash-worker.mjs',
    'dist/THIRD-PARTY-NOTICES.txt',
  ]
    .filter((path) => !paths.includes(path))
    .map((path) => `${path} is missing`),
  ...paths.filter((path) => /^(src|tools)\//.test(path)).map((path) => `${path} must not ship`),
  ...Object.keys(manifest.dependencies ?? {}).map(
    (name) => `dependency ${name}: the bundle inlines every package (see tools/bundle.mjs)`,
  ),
];
if (problems.length > 0) {
  process.stderr.write(`pack: ${packed.filename} is wrong:\n  ${problems.join('\n  ')}\n`);
  process.exit(1);
}
process.stderr.write(
  `packed ${packed.id}: ${paths.length} files, ${(packed.size / 1e6).toFixed(1)} MB ` +
    `(${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked)\n`,
);
process.stdout.write(`${join(destination, packed.filename)}\n`);
