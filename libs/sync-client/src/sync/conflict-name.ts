import { access } from 'node:fs/promises';
import { LIMITS } from '@filesync/resources';

/** A device name longer than this is cut in copy names: the original name matters more. */
const MAX_LABEL_BYTES = 48;

/**
 * The longest absolute path, in bytes, the OS accepts in a file system call: PATH_MAX less the
 * NUL (Linux 4096, macOS 1024). A longer copy path fails with ENAMETOOLONG on every pass.
 */
export const OS_MAX_PATH_BYTES = process.platform === 'darwin' ? 1023 : 4095;

/** No conflicted-copy name fits beside the file: the path is that close to the length limits. */
export class ConflictNameTooLongError extends Error {
  override name = 'ConflictNameTooLongError';
  constructor() {
    super('no conflicted-copy name fits within the path length limits; shorten the path to sync it');
  }
}

/**
 * The most bytes a new name may have in a folder: within LIMITS.maxNameBytes, the folder-relative
 * path within LIMITS.maxPathBytes (the server's rule) and the absolute path within what the OS
 * accepts. `relativeFolder` is '' for the synced folder's root.
 */
export function nameRoom(relativeFolder: string, absoluteFolder: string): number {
  const relative = relativeFolder === '' ? 0 : utf8Bytes(relativeFolder) + 1;
  return Math.min(
    LIMITS.maxNameBytes,
    LIMITS.maxPathBytes - relative,
    OS_MAX_PATH_BYTES - utf8Bytes(absoluteFolder) - 1,
  );
}

export interface ConflictNameOptions {
  /** A folder's name has no extension. Default true. */
  readonly keepExtension?: boolean;
  /** The most bytes the name may have (see nameRoom). Default LIMITS.maxNameBytes. */
  readonly maxBytes?: number;
}

/**
 * The name a conflicting local file is kept under, beside the original:
 * `report (conflicted copy laptop 2026-01-02 030405).txt`. The date is local time, as a person
 * looking at the folder reads it. `label` is the device name (or a short device id).
 *
 * The copy's name fits in `maxBytes` (a longer name or path fails with ENAMETOOLONG on every
 * pass): the stem is cut at a grapheme boundary (never inside a surrogate pair or a combining
 * sequence) and the extension is kept, so the copy still opens with the same application. When
 * even that leaves no room the device name goes; when nothing fits, ConflictNameTooLongError.
 * A folder's name has no extension (`keepExtension: false`).
 */
export function conflictCopyName(
  fileName: string,
  label: string,
  at: Date,
  attempt = 1,
  { keepExtension = true, maxBytes = LIMITS.maxNameBytes }: ConflictNameOptions = {},
): string {
  const dot = keepExtension ? fileName.lastIndexOf('.') : -1;
  // A leading dot starts a hidden name, not an extension (".bashrc" has none).
  const [stem, ext] = dot > 0 ? [fileName.slice(0, dot), fileName.slice(dot)] : [fileName, ''];
  const pad = (value: number) => String(value).padStart(2, '0');
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  const time = `${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
  // A device name must not add folders or control characters to the copy's name.
  // eslint-disable-next-line no-control-regex
  const cleanLabel = label.replace(/[/\\\u0000-\u001f\u007f]/g, '_').trim();
  const safeLabel = cutToBytes(cleanLabel, MAX_LABEL_BYTES) || 'device';
  const number = attempt > 1 ? ` ${attempt}` : '';
  const suffixes = [`${safeLabel} `, ''].map(
    (device) => ` (conflicted copy ${device}${date} ${time}${number})`,
  );
  // An "extension" taking most of a name's room is part of the name, not a type to preserve.
  const isType = utf8Bytes(ext) <= (LIMITS.maxNameBytes - utf8Bytes(suffixes[0]!)) / 2;
  // Keeping the extension matters more than keeping the device name, which the date backs up.
  const splits: [string, string][] =
    isType && ext !== ''
      ? [
          [stem, ext],
          [fileName, ''],
        ]
      : [[fileName, '']];
  for (const [keptStem, keptExt] of splits) {
    for (const suffix of suffixes) {
      const cut = cutToBytes(keptStem, maxBytes - utf8Bytes(suffix) - utf8Bytes(keptExt));
      if (cut !== '') return `${cut}${suffix}${keptExt}`;
    }
  }
  throw new ConflictNameTooLongError();
}

/** The longest prefix of `text` of whole grapheme clusters that fits in `maxBytes` of UTF-8. */
export function cutToBytes(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  if (maxBytes <= 0) return '';
  let cut = '';
  let used = 0;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) {
    used += utf8Bytes(segment);
    if (used > maxBytes) break;
    cut += segment;
  }
  return cut;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** A conflict copy name in `folder` that no file has yet (adds " 2", " 3"... when needed). */
export async function freeConflictCopyName(
  exists: (name: string) => Promise<boolean>,
  fileName: string,
  label: string,
  at: Date,
  options: ConflictNameOptions = {},
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const name = conflictCopyName(fileName, label, at, attempt, options);
    if (!(await exists(name))) return name;
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** What a conflicted copy's name says (see conflictCopyName). */
export interface ConflictCopyInfo {
  /** The name the copy was kept beside, as far as the copy's name tells (a long stem may be cut). */
  readonly original: string;
  /** The device that kept the copy; empty when the name had no room for it. */
  readonly device: string;
  /** When the copy was made, `YYYY-MM-DD HHMMSS` local time of that device. */
  readonly madeAt: string;
}

const COPY_NAME = / \(conflicted copy (?:(.+) )?(\d{4}-\d{2}-\d{2}) (\d{6})(?: \d+)?\)/;

/** Reads a conflicted copy's name back; undefined for any other name. */
export function parseConflictCopyName(name: string): ConflictCopyInfo | undefined {
  const match = COPY_NAME.exec(name);
  if (!match) return undefined;
  const original = name.slice(0, match.index) + name.slice(match.index + match[0].length);
  return { original, device: match[1] ?? '', madeAt: `${match[2]} ${match[3]}` };
}
