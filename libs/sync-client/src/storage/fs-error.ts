import { types } from 'node:util';

/**
 * An error's message without the paths Node writes into file-system errors (`ENAMETOOLONG: name
 * too long, rename '<path>' -> '<path>'`): reports name the path once, beside the reason, and a
 * path can be 4 KB long.
 */
export function errorText(error: unknown): string {
  // Errors of node:fs may come from another realm (a worker, a test sandbox): not `instanceof Error`.
  if (!(error instanceof Error || types.isNativeError(error))) return String(error);
  const { path, dest } = error as NodeJS.ErrnoException & { dest?: unknown };
  let text = error.message;
  if (typeof dest === 'string') text = text.replace(` -> '${dest}'`, '');
  if (typeof path === 'string') text = text.replace(` '${path}'`, '');
  return text;
}
