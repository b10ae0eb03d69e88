import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIMITS } from '@filesync/resources';
import { chunkBuffer, chunkFile, chunkStream, type Chunk } from './chunker';
import { blockHash } from './content-hash';

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

async function collect(source: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return chunks;
}

async function* slices(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

const MIB = 1024 * 1024;
const data = pseudoRandomBytes(20 * MIB, 42);

describe('FastCDC chunker', () => {
  it('cuts the same boundaries every time and however the bytes arrive', async () => {
    const whole = chunkBuffer(data);
    expect(chunkBuffer(data)).toEqual(whole);
    expect(await collect(chunkStream(slices(data, 3 * MIB + 17)))).toEqual(whole);
    expect(await collect(chunkStream(slices(data, 64 * 1024)))).toEqual(whole);
  });

  it('covers the input contiguously with correct hashes', () => {
    const chunks = chunkBuffer(data);
    let offset = 0;
    for (const chunk of chunks) {
      expect(chunk.offset).toBe(offset);
      expect(chunk.hash).toBe(blockHash(data.subarray(chunk.offset, chunk.offset + chunk.length)));
      offset += chunk.length;
    }
    expect(offset).toBe(data.length);
  });

  it('keeps every chunk but the last within min and max, averaging near the target', () => {
    const chunks = chunkBuffer(data);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(LIMITS.chunkMinBytes);
      expect(chunk.length).toBeLessThanOrEqual(LIMITS.chunkMaxBytes);
    }
    expect(chunks.at(-1)!.length).toBeLessThanOrEqual(LIMITS.chunkMaxBytes);
    const average = data.length / chunks.length;
    expect(average).toBeGreaterThan(LIMITS.chunkAvgBytes / 2);
    expect(average).toBeLessThan(LIMITS.chunkAvgBytes * 2);
  });

  it('changes only one or two chunks when one byte is inserted near the start', () => {
    const edited = Buffer.concat([data.subarray(0, 1000), Buffer.from([7]), data.subarray(1000)]);
    const before = new Set(chunkBuffer(data).map((chunk) => chunk.hash));
    const after = chunkBuffer(edited);
    const changed = after.filter((chunk) => !before.has(chunk.hash));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(2);
  });

  it('gives no chunks for empty input and one chunk for input below the minimum', async () => {
    expect(chunkBuffer(Buffer.alloc(0))).toEqual([]);
    expect(await collect(chunkStream(slices(Buffer.alloc(0), 10)))).toEqual([]);
    expect(chunkBuffer(Buffer.from('hello'))).toEqual([
      { offset: 0, length: 5, hash: blockHash(Buffer.from('hello')) },
    ]);
  });

  it('chunks a file on disk like the same bytes in memory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chunker-'));
    try {
      const file = join(dir, 'data.bin');
      const sample = data.subarray(0, 9 * MIB + 123);
      await writeFile(file, sample);
      expect(await collect(chunkFile(file))).toEqual(chunkBuffer(sample));
      // Reads smaller than a block and not aligned to anything: the reused buffer's tail moves.
      expect(await collect(chunkFile(file, { readBytes: 300 * 1024 + 7 }))).toEqual(chunkBuffer(sample));
      await writeFile(file, '');
      expect(await collect(chunkFile(file))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('chunking against the previous version (reference)', () => {
  const original = pseudoRandomBytes(24 * MIB, 7);
  const before = chunkBuffer(original);
  const reference = before.map(({ length, hash }) => ({ length, hash }));
  const oldHashes = new Set(before.map((chunk) => chunk.hash));
  const newBytes = (chunks: Chunk[]) =>
    chunks.filter((chunk) => !oldHashes.has(chunk.hash)).reduce((sum, chunk) => sum + chunk.length, 0);
  /** The old block holding byte `at`. */
  const blockAt = (at: number) =>
    before.find((chunk) => chunk.offset <= at && at < chunk.offset + chunk.length)!;

  it('gives back the reference blocks exactly for the same bytes, so the content hash holds', () => {
    expect(chunkBuffer(original, undefined, reference)).toEqual(before);
    // A reference that was itself cut against an older one is given back too.
    const edited = Buffer.concat([
      original.subarray(0, 5 * MIB),
      pseudoRandomBytes(MIB, 3),
      original.subarray(5 * MIB),
    ]);
    const editedChunks = chunkBuffer(edited, undefined, reference);
    const editedReference = editedChunks.map(({ length, hash }) => ({ length, hash }));
    expect(chunkBuffer(edited, undefined, editedReference)).toEqual(editedChunks);
  });

  it('re-cuts only the block an insertion of 1 MiB falls in, wherever it falls', () => {
    const inserted = pseudoRandomBytes(MIB, 99);
    let plainWorst = 0;
    for (let at = 3 * MIB + 12_345; at < 21 * MIB; at += 1_499_999) {
      const edited = Buffer.concat([original.subarray(0, at), inserted, original.subarray(at)]);
      const uploaded = newBytes(chunkBuffer(edited, undefined, reference));
      expect(uploaded).toBeLessThanOrEqual(MIB + blockAt(at).length);
      expect(uploaded).toBeGreaterThanOrEqual(MIB);
      plainWorst = Math.max(plainWorst, newBytes(chunkBuffer(edited)) - MIB - blockAt(at).length);
    }
    // Plain FastCDC falls back onto the old boundaries only by chance: somewhere above it costs more.
    expect(plainWorst).toBeGreaterThan(0);
  });

  it('re-cuts only the block a deletion or an overwrite falls in', () => {
    const at = 10 * MIB + 777;
    const deleted = Buffer.concat([original.subarray(0, at), original.subarray(at + MIB)]);
    const lost = before.filter((chunk) => chunk.offset + chunk.length > at && chunk.offset < at + MIB);
    const span = lost.reduce((sum, chunk) => sum + chunk.length, 0);
    expect(newBytes(chunkBuffer(deleted, undefined, reference))).toBeLessThanOrEqual(span - MIB);
    const overwritten = Buffer.from(original);
    overwritten.fill(0x5a, at, at + 4096);
    expect(newBytes(chunkBuffer(overwritten, undefined, reference))).toBe(blockAt(at).length);
  });

  it('cuts a file on disk and a stream against a reference like the same bytes in memory', async () => {
    const edited = Buffer.concat([
      original.subarray(0, 9 * MIB),
      pseudoRandomBytes(300_000, 5),
      original.subarray(9 * MIB),
    ]);
    const expected = chunkBuffer(edited, undefined, reference);
    const dir = await mkdtemp(join(tmpdir(), 'chunker-'));
    try {
      const file = join(dir, 'data.bin');
      await writeFile(file, edited);
      expect(await collect(chunkFile(file, { reference }))).toEqual(expected);
      expect(await collect(chunkFile(file, { reference, readBytes: 300 * 1024 + 7 }))).toEqual(expected);
      expect(await collect(chunkStream(slices(edited, 1_000_003), undefined, reference))).toEqual(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives back its own blocks for the same bytes even where bytes repeat (edited histories, small limits)', () => {
    // Duplicated ranges make one block's bytes start where another's did: the reference must
    // still come back in its own order, or unchanged bytes read again would be a new version.
    const limits = { minBytes: 64, avgBytes: 256, maxBytes: 1024 };
    let seed = 1;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const bytes = (n: number, lowEntropy: boolean) => {
      const out = Buffer.alloc(n);
      const period = 1 + Math.floor(random() * 4);
      for (let i = 0; i < n; i++)
        out[i] = !lowEntropy || random() < 0.02 ? Math.floor(random() * 256) : i % period;
      return out;
    };
    let differed = 0;
    for (let history = 0; history < 300; history++) {
      let current = bytes(Math.floor(random() * 20_000), random() < 0.3);
      let blocks = chunkBuffer(current, limits);
      for (let edit = 0; edit < 4; edit++) {
        const at = Math.floor(random() * (current.length + 1));
        const span = Math.floor(random() * 3000);
        const kind = random();
        current =
          kind < 0.4
            ? Buffer.concat([current.subarray(0, at), bytes(span, false), current.subarray(at)])
            : kind < 0.7
              ? Buffer.concat([current.subarray(0, at), current.subarray(at + span)])
              : Buffer.concat([
                  current.subarray(0, at),
                  current.subarray(Math.max(0, at - span), at),
                  current.subarray(at),
                ]);
        blocks = chunkBuffer(current, limits, blocks);
        if (JSON.stringify(chunkBuffer(current, limits, blocks)) !== JSON.stringify(blocks)) differed++;
      }
    }
    expect(differed).toBe(0);
  });

  it('ignores reference blocks no cut could make, and without a match cuts plain FastCDC', () => {
    const junk = [
      { length: 0, hash: blockHash(Buffer.alloc(0)) },
      { length: LIMITS.chunkMaxBytes + 1, hash: 'f'.repeat(64) },
      { length: 12_345, hash: '0'.repeat(64) },
    ];
    expect(chunkBuffer(data, undefined, junk)).toEqual(chunkBuffer(data));
  });

  it('cuts a repeated short pattern against a reference in linear time', () => {
    // A 16-byte pattern whose rolling hash matches the large mask once a period: a cut candidate
    // every 16 bytes. Looking for a reference block at each candidate, over every candidate up to
    // maxBytes ahead, took 20 s for these 256 KiB (80 s for 512 KiB), and hashed up to maxBytes
    // at each where a reference length landed on a candidate.
    const pattern = Buffer.from('fd759b1b06963cbe7645b02c3efd5897', 'hex');
    const crowded = (length: number) => Buffer.from(Array.from({ length }, (_, i) => pattern[i % 16]!));
    const cases = [
      { before: crowded(256 * 1024), after: Buffer.concat([Buffer.from([1, 2, 3]), crowded(256 * 1024)]) },
      {
        before: pseudoRandomBytes(12 * MIB, 11),
        after: Buffer.concat([
          pseudoRandomBytes(12 * MIB, 11).subarray(0, 5 * MIB),
          crowded(3 * MIB),
          pseudoRandomBytes(12 * MIB, 11).subarray(5 * MIB),
        ]),
      },
    ];
    for (const { before, after } of cases) {
      const reference = chunkBuffer(before).map(({ length, hash }) => ({ length, hash }));
      const started = Date.now();
      const chunks = chunkBuffer(after, undefined, reference);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(chunks.reduce((sum, chunk) => sum + chunk.length, 0)).toBe(after.length);
      for (const chunk of chunks)
        expect(chunk.hash).toBe(blockHash(after.subarray(chunk.offset, chunk.offset + chunk.length)));
    }
  });
});

describe('chunk boundaries are a storage format', () => {
  it('cuts a fixed input exactly where every client always has', () => {
    // 8 MiB of SHA-256 output over a counter: reproducible in any language.
    const parts: Buffer[] = [];
    for (let i = 0; i < (8 * 1024 * 1024) / 32; i++) {
      parts.push(createHash('sha256').update(`filesync-golden-${i}`).digest());
    }
    const chunks = chunkBuffer(Buffer.concat(parts));
    // Format 2 (normalization level 3). Format 1 (level 2) cut 1851790, 1186631, 1541089,
    // 1109679, 1672514, 1026905.
    expect(chunks.map((chunk) => chunk.length)).toEqual([
      1130555, 1197005, 1116095, 1135855, 1109679, 1326617, 1070222, 302580,
    ]);
    expect(chunks[0]!.hash).toBe('298fc33a097ea5ef80a5e623f43debfeeb6eeb70da0f0144576230635b44611c');
  });
});
