// What the CLI bundle in libs/sync-client/dist was built from (tools/bundle.mjs records it), so the
// launcher in the repository runs the bundle only while every input is as it was then
// (tools/from-repository.mjs): an edited, added-to or checked-out source never runs as stale code.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Written last by tools/bundle.mjs, into dist/ beside the bundle; not packed. */
export const INPUTS_FILE = 'build-inputs.json';

/**
 * Size and modification time of a file, or undefined when there is none. Any write changes the
 * time (git checkout and npm install too), so an unchanged stamp means unchanged content.
 * @param {string} path
 * @returns {{ size: number, mtimeMs: number } | undefined}
 */
export function fileStamp(path) {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats && { size: stats.size, mtimeMs: stats.mtimeMs };
}

/**
 * The inputs recorded in `distDir` (paths relative to `root`) whose file differs from its stamp
 * or is gone; every reason there is no usable record is one entry too. Empty: the bundle is current.
 * @param {string} root
 * @param {string} distDir
 * @returns {string[]}
 */
export function changedInputs(root, distDir) {
  let inputs;
  try {
    ({ inputs } = JSON.parse(readFileSync(join(distDir, INPUTS_FILE), 'utf8')));
  } catch {
    return [`${INPUTS_FILE} (not built)`];
  }
  if (!inputs || Object.keys(inputs).length === 0) return [`${INPUTS_FILE} (empty)`];
  return Object.entries(inputs)
    .filter(([path, recorded]) => {
      const stamp = fileStamp(join(root, path));
      return !stamp || stamp.size !== recorded.size || stamp.mtimeMs !== recorded.mtimeMs;
    })
    .map(([path]) => path);
}
