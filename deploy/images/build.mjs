// Builds the four service images (`npm run images`): the base image first when it is missing,
// then per service an esbuild bundle with every JavaScript dependency inlined, staged with the few
// files that must stay files (native addons, .proto files loaded at run time, the health probe),
// and `docker build` of services/<name>/Dockerfile on that small staging directory.
//
// Usage: node deploy/images/build.mjs [--tag <tag>] [--base <image>] [service...]
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { esmRequireBanner as banner } from '../../libs/local-stack/bin/esm-require-banner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const ALL_SERVICES = ['auth', 'metadata', 'sync-diff', 'notifier'];
const DEFAULT_BASE = 'filesync/node24-distroless:24';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tag: { type: 'string', default: 'latest' },
    base: { type: 'string', default: DEFAULT_BASE },
  },
});
const services = positionals.length > 0 ? positionals : ALL_SERVICES;
const unknown = services.filter((name) => !ALL_SERVICES.includes(name));
if (unknown.length > 0) fail(`unknown service(s): ${unknown.join(', ')}`);

/**
 * Native addons cannot be bundled: the platform package is kept external and copied next to the
 * bundle as /app/node_modules/<package>, where the bundle's require() finds it.
 */
const NATIVE_PACKAGES = [
  { usedBy: 'node_modules/@node-rs/argon2/', packages: /^argon2-linux-/, scope: '@node-rs' },
];

/**
 * Packages that read .proto files at run time relative to their own module (`__dirname/../../proto`).
 * In the bundle __dirname is /app, so they resolve to /proto/...: copied there, same relative paths.
 */
const RUNTIME_PROTOS = [
  { usedBy: 'node_modules/grpc-health-check/', from: 'node_modules/grpc-health-check/proto/health' },
  { usedBy: 'node_modules/@grpc/reflection/', from: 'node_modules/@grpc/reflection/build/proto/grpc' },
];

/** Jobs bundled next to a service's main.mjs: the task runs them by overriding the entry point. */
const JOBS = { metadata: [{ entry: 'gc-main.ts', outfile: 'gc.mjs' }] };

ensureBaseImage(values.base);
for (const service of services) await buildImage(service);

async function buildImage(service) {
  const started = Date.now();
  const context = join(root, 'dist', 'images', service);
  rmSync(context, { recursive: true, force: true });
  mkdirSync(join(context, 'app'), { recursive: true });

  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'services', service, 'src', 'main.ts')],
    outfile: join(context, 'app', 'main.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    tsconfig: join(root, 'tsconfig.base.json'),
    external: ['@node-rs/argon2-*'],
    banner: { js: banner },
    // Not minified: a crash then prints a readable line, and names survive in logged errors.
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  for (const job of JOBS[service] ?? []) {
    await build({
      absWorkingDir: root,
      entryPoints: [join(root, 'services', service, 'src', job.entry)],
      outfile: join(context, 'app', job.outfile),
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      tsconfig: join(root, 'tsconfig.base.json'),
      external: ['@node-rs/argon2-*'],
      banner: { js: banner },
      legalComments: 'none',
      logLevel: 'warning',
    });
  }
  const inputs = Object.keys(result.metafile.inputs);
  const uses = (prefix) => inputs.some((input) => input.startsWith(prefix));

  for (const native of NATIVE_PACKAGES.filter((entry) => uses(entry.usedBy))) {
    const scopeDir = join(root, 'node_modules', native.scope);
    const installed = readdirSync(scopeDir).filter((name) => native.packages.test(name));
    if (installed.length === 0) fail(`${service}: no ${native.scope}/${native.packages} package installed`);
    for (const name of installed) {
      cpSync(join(scopeDir, name), join(context, 'app', 'node_modules', native.scope, name), {
        recursive: true,
      });
    }
  }
  for (const proto of RUNTIME_PROTOS.filter((entry) => uses(entry.usedBy))) {
    const target = join(context, 'proto', proto.from.split('/').at(-1));
    cpSync(join(root, proto.from), target, { recursive: true });
  }
  mkdirSync(join(context, 'proto'), { recursive: true });
  cpSync(join(here, 'health-probe.mjs'), join(context, 'app', 'health-probe.mjs'));

  const image = `filesync/${service}:${values.tag}`;
  docker([
    'build',
    '--quiet',
    '--build-arg',
    `BASE_IMAGE=${values.base}`,
    '--file',
    join(root, 'services', service, 'Dockerfile'),
    '--tag',
    image,
    context,
  ]);
  const bundleMb = (statSync(join(context, 'app', 'main.mjs')).size / 1e6).toFixed(1);
  process.stdout.write(
    `built ${image}: ${imageSize(image)} (bundle ${bundleMb} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

function ensureBaseImage(base) {
  if (spawnSync('docker', ['image', 'inspect', base], { stdio: 'ignore' }).status === 0) return;
  if (base !== DEFAULT_BASE) fail(`base image ${base} is not present; pull or build it first`);
  process.stdout.write(`base image ${base} missing: building it\n`);
  execFileSync(join(here, 'build-base.sh'), [base], { stdio: 'inherit' });
}

function imageSize(image) {
  const bytes = Number(docker(['image', 'inspect', '--format', '{{.Size}}', image]).trim());
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function docker(args) {
  if (!existsSync('/var/run/docker.sock') && !process.env.DOCKER_HOST) {
    fail('Docker is not running (no /var/run/docker.sock and no DOCKER_HOST)');
  }
  const run = spawnSync('docker', args, { encoding: 'utf8' });
  if (run.status !== 0) fail(`docker ${args[0]} failed:\n${run.stderr || run.stdout}`);
  return run.stdout;
}

function fail(message) {
  process.stderr.write(`images: ${message}\n`);
  process.exit(1);
}
