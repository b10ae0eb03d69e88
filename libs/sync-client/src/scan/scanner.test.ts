import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockHash, contentHash } from '@filesync/sync-core';
import { inlineHasher, type Hasher } from '../hashing/hash-file';
import { StateDb } from '../state/state-db';
import { manifestOf, scanFolder } from './scanner';

describe('scanFolder', () => {
  let root: string;
  let state: StateDb;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'scan-'));
    state = StateDb.open(':memory:');
  });
  afterEach(async () => {
    state.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Counts what it hashes, to show unchanged files are not read again. */
  function countingHasher(): Hasher & { hashed: string[] } {
    const hashed: string[] = [];
    return {
      hashed,
      hash: (path, size) => (hashed.push(path), inlineHasher.hash(path, size)),
      close: async () => undefined,
    };
  }

  async function put(path: string, content: string) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }

  it('lists regular files with NFC paths, skipping ignored, temp files and symlinks', async () => {
    await put('a.txt', 'hello');
    await put('docs/re\u0301sume\u0301.md', 'cv');
    await put('build/out.bin', 'x');
    await put('notes/draft.tmp', 'x');
    await put('notes/keep.tmp', 'x');
    await put('.filesync-tmp-123abc', 'partial');
    await put('docs/.filesync-tmp-left-by-crash', 'partial');
    const longAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(root, 'docs/.filesync-tmp-left-by-crash'), longAgo, longAgo);
    await put('empty.txt', '');
    await put('.filesyncignore', 'build/\n*.tmp\n!keep.tmp\n');
    await put('.filesync-home/state.db', 'private');
    await symlink(join(root, 'a.txt'), join(root, 'link.txt'));
    await symlink(join(root, 'docs'), join(root, 'linked-dir'));

    const scan = await scanFolder(root, state, inlineHasher, {
      privateFolders: [join(root, '.filesync-home')],
    });
    expect([...scan.files.keys()].sort()).toEqual(
      ['.filesyncignore', 'a.txt', 'docs/r\u00e9sum\u00e9.md', 'empty.txt', 'notes/keep.tmp'].sort(),
    );
    const a = scan.files.get('a.txt')!;
    expect(a.size).toBe(5);
    expect(a.contentHash).toBe(contentHash([blockHash(Buffer.from('hello'))]));
    expect(scan.files.get('empty.txt')!.contentHash).toBe(contentHash([]));
    expect(scan.excluded('build/out.bin')).toBe(true);
    expect(scan.excluded('notes/draft.tmp')).toBe(true);
    expect(scan.excluded('a.txt')).toBe(false);
    // A fresh temp file may belong to a running download; one hours old was left by a crash.
    expect(await readdir(root)).toContain('.filesync-tmp-123abc');
    expect(await readdir(join(root, 'docs'))).not.toContain('.filesync-tmp-left-by-crash');
  });

  it('reuses the cached hash when size and mtime are unchanged', async () => {
    await put('a.txt', 'one');
    await put('b.txt', 'two');
    const first = countingHasher();
    await scanFolder(root, state, first);
    expect(first.hashed).toHaveLength(2);

    await put('b.txt', 'TWO!');
    const second = countingHasher();
    const scan = await scanFolder(root, state, second);
    expect(second.hashed).toEqual([join(root, 'b.txt')]);
    expect(scan.files.get('b.txt')!.contentHash).toBe(contentHash([blockHash(Buffer.from('TWO!'))]));

    // Same size, different mtime: rehashed.
    await utimes(join(root, 'a.txt'), new Date(), new Date(Date.now() + 5000));
    const third = countingHasher();
    await scanFolder(root, state, third);
    expect(third.hashed).toEqual([join(root, 'a.txt')]);
  });

  it('reports synced files that are gone as deletions and forgets unsynced ones', async () => {
    await put('synced.txt', 'v1');
    await put('local-only.txt', 'new');
    await put('build/artifact', 'ignored later');
    const scan = await scanFolder(root, state, inlineHasher);
    const synced = scan.files.get('synced.txt')!;
    state.put(root, {
      ...state.get(root, 'synced.txt')!,
      baseVersion: 4,
      baseContentHash: synced.contentHash,
    });
    state.put(root, {
      ...state.get(root, 'build/artifact')!,
      baseVersion: 1,
      baseContentHash: 'f'.repeat(64),
    });

    await rm(join(root, 'synced.txt'));
    await rm(join(root, 'local-only.txt'));
    // Ignoring a synced path must not turn it into a deletion.
    await put('.filesyncignore', 'build/\n');
    const after = await scanFolder(root, state, inlineHasher);
    expect(after.deleted.map((row) => row.path)).toEqual(['synced.txt']);
    expect(state.get(root, 'local-only.txt')).toBeUndefined();

    const manifest = manifestOf(after);
    expect(manifest).toEqual([
      {
        path: '.filesyncignore',
        contentHash: expect.any(String),
        size: 7,
        baseVersion: 0,
        baseContentHash: '',
        deleted: false,
      },
      {
        path: 'synced.txt',
        contentHash: '',
        size: 0,
        baseVersion: 4,
        baseContentHash: synced.contentHash,
        deleted: true,
      },
    ]);
  });
});
