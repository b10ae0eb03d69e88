import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `filesync-e2e-${label}-`));
}

/** Writes files (relative path => content) below `root`, creating folders. */
export function writeTree(root: string, files: Readonly<Record<string, string | Uint8Array>>): void {
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, ...path.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/**
 * Every regular file below `root` as relative path => SHA-256 of its bytes. Client state kept
 * inside the folder (dot-directories such as .filesync) is not part of the synced tree.
 */
export function treeDigest(root: string): Record<string, string> {
  const digest: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.filesync')) walk(full);
      } else if (entry.isFile() && !entry.name.startsWith('.filesync')) {
        digest[relative(root, full).split(sep).join('/')] = sha256(readFileSync(full));
      }
    }
  };
  walk(root);
  return Object.fromEntries(Object.entries(digest).sort(([a], [b]) => a.localeCompare(b)));
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A folder as a person would have it, about 100 files: nested folders, non-ASCII names (NFC), an
 * empty file, many small text files and one random file of `bigBytes`.
 */
export function mixedFolder(bigBytes: number): Record<string, string | Uint8Array> {
  const files: Record<string, string | Uint8Array> = {
    'README.txt': 'top level\n',
    'empty.txt': '',
    'docs/plan.md': '# plan\n\n- sync\n- share\n',
    'docs/reports/2026/q1.csv': 'month,value\njan,1\nfeb,2\nmar,3\n',
    'docs/reports/2026/q2.csv': 'month,value\napr,4\nmay,5\njun,6\n',
    'photos/café/crème brûlée.txt': 'dessert\n',
    'Überordner/größe.txt': 'umlaut\n',
    '日本語/ファイル.txt': 'こんにちは\n',
    'emoji/🎉 party.txt': 'party\n',
    'spaces in name/a b c.txt': 'spaces\n',
    'big/random.bin': randomBytes(bigBytes),
  };
  for (let index = 0; index < 88; index++) {
    files[`many/file-${String(index).padStart(2, '0')}.txt`] =
      `small file ${index}\n${randomBytes(64).toString('hex')}\n`;
  }
  return files;
}
