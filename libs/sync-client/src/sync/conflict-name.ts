import { access } from 'node:fs/promises';
import { LIMITS } from '@filesync/resources';

/** A device name longer than this is cut in copy names: the original name matters more. */
const MAX_LABEL_BYTES = 48;

/**
 * The name a conflicting local file is kept under, beside the original:
 * `report (conflicted copy laptop 2026-01-02 030405).txt`. The date is local time, as a person
 * looking at the folder reads it. `label` is the device name (or a short device id).
 *
 * The copy's name fits in LIMITS.maxNameBytes (a longer one fails with ENAMETOOLONG on every pass):
 * the stem is cut at a grapheme boundary (never inside a surrogate pair or a combining sequence)
 * and the extension is kept, so the copy still opens with the same application. A folder's name
 * has no extension (`keepExtension: false`).
 */
export function conflictCopyName(
  fileName: string,
  label: string,
  at: Date,
  attempt = 1,
  { keepExtension = true }: { keepExtension?: boolean } = {},
): string {
  const dot = keepExtension ? fileName.lastIndexOf('.') : -1;
  // A leading dot starts a hidden name, not an extension (".bashrc" has none).
  let [stem, ext] = dot > 0 ? [fileName.slice(0, dot), fileName.slice(dot)] : [fileName, ''];
  const pad = (value: number) => String(value).padStart(2, '0');
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  const time = `${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
  // A device name must not add folders or control characters to the copy's name.
  // eslint-disable-next-line no-control-regex
  const cleanLabel = label.replace(/[/\\\u0000-\u001f\u007f]/g, '_').trim();
  const safeLabel = cutToBytes(cleanLabel, MAX_LABEL_BYTES) || 'device';
  const suffix = ` (conflicted copy ${safeLabel} ${date} ${time}${attempt > 1 ? ` ${attempt}` : ''})`;
  const room = LIMITS.maxNameBytes - utf8Bytes(suffix);
  // An "extension" taking most of the room is part of the name, not a type to preserve.
  if (utf8Bytes(ext) > room / 2) [stem, ext] = [fileName, ''];
  return `${cutToBytes(stem, room - utf8Bytes(ext))}${suffix}${ext}`;
}

/** The longest prefix of `text` of whole grapheme clusters that fits in `maxBytes` of UTF-8. */
export function cutToBytes(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
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
  options: { keepExtension?: boolean } = {},
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
