import { LIMITS } from '@filesync/resources';

/** Why a path was refused; the message names the rule so a client developer can fix the caller. */
export class InvalidPathError extends Error {
  override name = 'InvalidPathError';
}

/**
 * Validates a namespace-relative path and returns its canonical form (Unicode NFC). Both the
 * client and the metadata service apply these rules, so a path accepted locally is accepted by
 * the server: '/'-separated, no empty, '.' or '..' segments, not absolute, no backslash, no NUL
 * or other control characters, at most LIMITS.maxPathBytes bytes in UTF-8.
 *
 * Only a leading '/' makes a path absolute: paths are '/'-separated and relative by construction,
 * so a drive-letter look-alike such as `c:notes.txt` or `x:backup/a` is an ordinary name (a colon
 * is a valid file-name character on the platforms we run on).
 */
export function canonicalPath(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidPathError('path is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path))
    throw new InvalidPathError('path contains a NUL or control character');
  if (path.startsWith('/')) throw new InvalidPathError('path must be relative, not absolute');
  if (path.includes('\\'))
    throw new InvalidPathError('path contains a backslash, which other platforms read as a folder separator');
  const normalized = path.normalize('NFC');
  for (const segment of normalized.split('/')) {
    if (segment === '')
      throw new InvalidPathError('path has an empty segment (leading, trailing or double slash)');
    if (segment === '.' || segment === '..')
      throw new InvalidPathError(`path must not contain '${segment}' segments`);
  }
  if (Buffer.byteLength(normalized, 'utf8') > LIMITS.maxPathBytes) {
    throw new InvalidPathError(`path is longer than ${LIMITS.maxPathBytes} bytes`);
  }
  return normalized;
}

/** True when `path` is `folder` itself or lies below it; the empty folder is the namespace root. */
export function isAtOrBelow(path: string, folder: string): boolean {
  return folder === '' || path === folder || path.startsWith(`${folder}/`);
}
