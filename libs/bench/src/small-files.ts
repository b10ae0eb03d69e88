import { createCipheriv, createHash, type Cipheriv } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import pLimit from 'p-limit';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** N files with sizes drawn uniformly from [minBytes, maxBytes], reproducible from `seed`. */
export interface SmallFilesSpec {
  readonly count: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly seed: number;
}

export interface PlannedFile {
  /** Relative, '/'-separated: `d000/f00000.bin`, 100 files a folder. */
  readonly path: string;
  readonly size: number;
}

/** Files a folder: 10,000 files make 100 folders, as a real tree spreads them. */
const FILES_PER_FOLDER = 100;

/** mulberry32: a tiny seeded PRNG, so a seed gives the same sizes on every machine and Node. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The paths and sizes of the small-file folder; the same spec always plans the same folder. */
export function planSmallFiles(spec: SmallFilesSpec): PlannedFile[] {
  if (!Number.isInteger(spec.count) || spec.count < 0)
    throw new Error(`file count must be >= 0, got ${spec.count}`);
  if (spec.minBytes < 0 || spec.maxBytes < spec.minBytes) {
    throw new Error(`file sizes must satisfy 0 <= min <= max, got ${spec.minBytes}..${spec.maxBytes}`);
  }
  const random = seededRandom(spec.seed);
  const digits = Math.max(5, String(spec.count).length);
  const folderDigits = Math.max(3, String(Math.floor(spec.count / FILES_PER_FOLDER)).length);
  return Array.from({ length: spec.count }, (_, i) => ({
    path: `d${String(Math.floor(i / FILES_PER_FOLDER)).padStart(folderDigits, '0')}/f${String(i).padStart(digits, '0')}.bin`,
    size: spec.minBytes + Math.floor(random() * (spec.maxBytes - spec.minBytes + 1)),
  }));
}

/**
 * Incompressible bytes reproducible from a seed and a name: an AES-256-CTR keystream. Same seed,
 * same bytes, so runs on different code compare; different names give unrelated bytes, so no
 * data set dedupes against another.
 */
function keystream(seed: number, name: string): Cipheriv {
  const key = createHash('sha256').update(`filesync-bench:${seed}:${name}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
}

/** Writes the planned files below `root`; returns their total bytes. */
export async function writeSmallFiles(
  root: string,
  files: readonly PlannedFile[],
  seed: number,
): Promise<number> {
  const stream = keystream(seed, 'small-files');
  let total = 0;
  const made = new Set<string>();
  for (const file of files) {
    const target = join(root, file.path);
    const folder = dirname(target);
    if (!made.has(folder)) {
      await mkdir(folder, { recursive: true });
      made.add(folder);
    }
    await writeFile(target, stream.update(Buffer.alloc(file.size)));
    total += file.size;
  }
  return total;
}

/** Writes one file of `size` random (seeded) bytes in 8 MiB pieces, never holding it whole. */
export async function writeBigFile(target: string, size: number, seed: number): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const stream = keystream(seed, 'big-file');
  const handle = await open(target, 'w');
  try {
    const zeros = Buffer.alloc(8 * MiB);
    for (let written = 0; written < size;) {
      const piece = Math.min(zeros.length, size - written);
      await handle.write(stream.update(zeros.subarray(0, piece)));
      written += piece;
    }
  } finally {
    await handle.close();
  }
}

/** Every regular file below `root` by relative '/'-separated path. */
async function listFiles(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else found.set(relative(root, full).split('\\').join('/'), full);
    }
  };
  await walk(root);
  return found;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** How a downloaded tree differs from the source: paths missing, extra, or with other bytes. */
export interface TreeDifference {
  readonly missing: string[];
  readonly extra: string[];
  readonly different: string[];
}

export const sameTree = (difference: TreeDifference): boolean =>
  difference.missing.length + difference.extra.length + difference.different.length === 0;

/**
 * Compares two trees file by file (size, then the bytes), so a download is proven byte-identical.
 * Files are compared several at a time, small ones read whole: one stream per file with a 1 MiB
 * buffer, one file at a time, took over 11 minutes for 100,000 files of 1-16 KiB.
 */
export async function compareTrees(expectedRoot: string, actualRoot: string): Promise<TreeDifference> {
  const [expected, actual] = await Promise.all([listFiles(expectedRoot), listFiles(actualRoot)]);
  const difference: TreeDifference = { missing: [], extra: [], different: [] };
  for (const path of actual.keys()) if (!expected.has(path)) difference.extra.push(path);
  const limit = pLimit(COMPARE_CONCURRENCY);
  const differs = await Promise.all(
    [...expected].map(([path, file]) =>
      limit(async () => {
        const other = actual.get(path);
        if (other === undefined) return 'missing' as const;
        return (await sameBytes(file, other)) ? undefined : ('different' as const);
      }),
    ),
  );
  [...expected.keys()].forEach((path, index) => {
    const outcome = differs[index];
    if (outcome) difference[outcome].push(path);
  });
  difference.missing.sort();
  difference.different.sort();
  return difference;
}

/** Files compared at once: enough to keep the disk and the thread pool busy. */
const COMPARE_CONCURRENCY = 16;
/** Files up to this size are read whole; larger ones are hashed as streams. */
const WHOLE_READ_BYTES = 8 * MiB;

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [statA, statB] = await Promise.all([stat(a), stat(b)]);
  if (statA.size !== statB.size) return false;
  if (statA.size <= WHOLE_READ_BYTES) {
    const [bytesA, bytesB] = await Promise.all([readFile(a), readFile(b)]);
    return bytesA.equals(bytesB);
  }
  const [hashA, hashB] = await Promise.all([sha256(a), sha256(b)]);
  return hashA === hashB;
}

/** Parses `1GiB`, `64MiB`, `512KiB`, `1000` (bytes); also `1G`, `64M`, `1.5GiB`; binary units. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?\s*$/i.exec(text);
  if (!match) throw new Error(`not a size: "${text}" (try 1GiB, 64MiB, 4096)`);
  const unit = (match[2] ?? 'B').toUpperCase()[0]!;
  const scale = { B: 1, K: KiB, M: MiB, G: GiB }[unit as 'B' | 'K' | 'M' | 'G'];
  return Math.round(Number(match[1]) * scale);
}

/** `1 GiB`, `64 MiB`, `12.3 KiB`: the largest binary unit that keeps the number >= 1. */
export function formatSize(bytes: number): string {
  if (bytes >= GiB) return `${+(bytes / GiB).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(2)} MiB`;
  if (bytes >= KiB) return `${+(bytes / KiB).toFixed(2)} KiB`;
  return `${bytes} B`;
}
