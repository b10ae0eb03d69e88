import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root: the nearest directory at or above the working directory holding nx.json.
 * Found from the working directory because this code runs as ESM (tsx), as CommonJS (jest) and
 * bundled, where module-relative paths differ.
 */
export function repoRoot(from = process.cwd()): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`no nx.json at or above ${from}: run from the filesync repository`);
  }
}

/** The pinned Node 24 binary from the `node` devDependency, falling back to the running one. */
export function nodeBinary(root = repoRoot()): string {
  const pinned = join(root, 'node_modules', '.bin', 'node');
  return existsSync(pinned) ? pinned : process.execPath;
}
