import { access } from 'node:fs/promises';

/**
 * The name a conflicting local file is kept under, beside the original:
 * `report (conflicted copy laptop 2026-01-02 030405).txt`. The date is local time, as a person
 * looking at the folder reads it. `label` is the device name (or a short device id).
 */
export function conflictCopyName(fileName: string, label: string, at: Date, attempt = 1): string {
  const dot = fileName.lastIndexOf('.');
  // A leading dot starts a hidden name, not an extension (".bashrc" has none).
  const [stem, ext] = dot > 0 ? [fileName.slice(0, dot), fileName.slice(dot)] : [fileName, ''];
  const pad = (value: number) => String(value).padStart(2, '0');
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  const time = `${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
  // A device name must not add folders or control characters to the copy's name.
  // eslint-disable-next-line no-control-regex
  const safeLabel = label.replace(/[/\\\u0000-\u001f\u007f]/g, '_').trim() || 'device';
  const suffix = attempt > 1 ? ` ${attempt}` : '';
  return `${stem} (conflicted copy ${safeLabel} ${date} ${time}${suffix})${ext}`;
}

/** A conflict copy name in `folder` that no file has yet (adds " 2", " 3"... when needed). */
export async function freeConflictCopyName(
  exists: (name: string) => Promise<boolean>,
  fileName: string,
  label: string,
  at: Date,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const name = conflictCopyName(fileName, label, at, attempt);
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
