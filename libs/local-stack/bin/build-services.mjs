// Bundles each service (services/<name>/src/main.ts) into dist/services/<name>/main.mjs.
// Dependencies stay in node_modules (packages: 'external'); the @filesync/* path aliases of
// tsconfig.base.json are resolved by esbuild and bundled.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const allServices = ['auth', 'metadata', 'sync-diff', 'notifier'];
// `build-services.mjs auth notifier` builds only those (the Nx `build` target of each service).
const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !allServices.includes(name));
if (unknown.length > 0) {
  process.stderr.write(
    `build-services: unknown service ${unknown.join(', ')} (known: ${allServices.join(', ')})\n`,
  );
  process.exit(2);
}
const services = requested.length > 0 ? requested : allServices;
/** Jobs bundled next to a service's main.mjs and run from the same image: the storage collector. */
const JOBS = { metadata: [{ entry: 'gc-main.ts', outfile: 'gc.mjs' }] };

const started = Date.now();
const missing = services.filter((name) => !existsSync(join(root, 'services', name, 'src', 'main.ts')));
if (missing.length > 0) {
  process.stderr.write(`build-services: no src/main.ts in services/${missing.join(', services/')}\n`);
  process.exit(1);
}

try {
  await Promise.all(
    services
      .flatMap((name) => [
        { name, entry: 'main.ts', outfile: 'main.mjs' },
        ...(JOBS[name] ?? []).map((job) => ({ name, ...job })),
      ])
      .map(({ name, entry, outfile }) =>
        build({
          absWorkingDir: root,
          entryPoints: [join(root, 'services', name, 'src', entry)],
          outfile: join(root, 'dist', 'services', name, outfile),
          bundle: true,
          platform: 'node',
          target: 'node24',
          format: 'esm',
          packages: 'external',
          tsconfig: join(root, 'tsconfig.base.json'),
          sourcemap: true,
          logLevel: 'warning',
        }),
      ),
  );
} catch {
  // esbuild already printed the errors with their locations.
  process.exit(1);
}
process.stdout.write(`built ${services.length} services in ${Date.now() - started} ms\n`);
