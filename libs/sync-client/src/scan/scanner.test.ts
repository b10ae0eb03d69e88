import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  rename,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockHash, contentHash } from '@filesync/sync-core';
import { inlineHasher, type Hasher } from '../hashing/hash-file';
import { StateDb } from '../state/state-db';
import {
  FolderUnreadableError,
  manifestOf,
  nodeScanFileSystem,
  scanFolder,
  SKIP_REASONS,
  type ScanFileSystem,
} from './scanner';

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
      hash: (path, size, reference) => (hashed.push(path), inlineHasher.hash(path, size, reference)),
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
  });

  it('kind 8: partial downloads left by a killed run are removed, however fresh, and never listed', async () => {
    await put('a.txt', 'hello');
    await put('.filesync-tmp-0123456789abcdef', 'partial, written a moment ago');
    await put('docs/.filesync-tmp-fedcba9876543210', 'partial');
    const scan = await scanFolder(root, state, inlineHasher);
    expect([...scan.files.keys()]).toEqual(['a.txt']);
    expect(scan.skipped).toEqual([]);
    expect(await readdir(root)).toEqual(['a.txt', 'docs']);
    expect(await readdir(join(root, 'docs'))).toEqual([]);
  });

  it('kind 8: a user file or folder merely starting like our temp files is an ordinary path, synced and kept', async () => {
    const users = [
      '.filesync-tmp-mine',
      '.filesync-tmp-',
      'd/.filesync-tmp-0123456789abcde',
      'd/.filesync-tmp-0123456789ABCDEF',
      'd/.filesync-tmp-0123456789abcdef0',
      '.filesync-tmp-project/plan.md',
      '.filesync-tmp-0123456789abcdef.bak',
    ];
    for (const path of users) await put(path, `user data ${path}`);
    await put('.filesync-tmp-89abcdef01234567/inside.txt', 'a folder is never a temp file of ours');
    const scan = await scanFolder(root, state, inlineHasher);
    expect([...scan.files.keys()].sort()).toEqual(
      [...users, '.filesync-tmp-89abcdef01234567/inside.txt'].sort(),
    );
    for (const path of users) expect(scan.excluded(path)).toBe(false);
    expect(scan.skipped).toEqual([]);
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

  it('cuts an edited file against the blocks it had: only what the edit touched is new, and its blocks hold when it is read again', async () => {
    const bytes = Buffer.alloc(12 * 1024 * 1024);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    await writeFile(join(root, 'big.bin'), bytes);
    const before = (await scanFolder(root, state, countingHasher())).files.get('big.bin')!;
    const at = 6 * 1024 * 1024 + 1234;
    const inserted = Buffer.alloc(1024 * 1024, 7);
    await writeFile(
      join(root, 'big.bin'),
      Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)]),
    );
    const after = (await scanFolder(root, state, countingHasher())).files.get('big.bin')!;
    const old = new Set(before.blocks.map((block) => block.hash));
    const hit = before.blocks.find((block) => block.offset <= at && at < block.offset + block.length)!;
    const fresh = after.blocks
      .filter((block) => !old.has(block.hash))
      .reduce((sum, block) => sum + block.length, 0);
    expect(fresh).toBeGreaterThanOrEqual(inserted.length);
    expect(fresh).toBeLessThanOrEqual(inserted.length + hit.length);
    // Read again with the same bytes (its ctime moved): the same blocks, so no new version.
    await chmod(join(root, 'big.bin'), 0o600);
    const reader = countingHasher();
    const again = (await scanFolder(root, state, reader)).files.get('big.bin')!;
    expect(reader.hashed).toEqual([join(root, 'big.bin')]);
    expect(again.blocks).toEqual(after.blocks);
  });

  it('reads again a file rewritten in place with its size and mtime put back (touch -r, cp -p): its ctime moved', async () => {
    await put('a.txt', 'first text');
    const file = join(root, 'a.txt');
    // A whole millisecond, which utimes puts back exactly.
    const mtime = new Date(1_700_000_000_000);
    await utimes(file, mtime, mtime);
    const scan = await scanFolder(root, state, countingHasher());
    const seen = scan.files.get('a.txt')!;
    expect(seen.ctimeMs).toBeGreaterThan(0);

    // Same length, other bytes, the old mtime put back. The kernel's ctime ticks coarsely (a few
    // ms): the rewrite is repeated until the ctime shows it, as any later edit would.
    for (;;) {
      await writeFile(file, 'other text');
      await utimes(file, mtime, mtime);
      const now = await lstat(file);
      expect(now.mtimeMs).toBe(seen.mtimeMs);
      if (now.ctimeMs !== seen.ctimeMs) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const second = countingHasher();
    const after = await scanFolder(root, state, second);
    expect(second.hashed).toEqual([file]);
    expect(after.files.get('a.txt')!.contentHash).toBe(contentHash([blockHash(Buffer.from('other text'))]));
    // Recorded with its new ctime: the next scan reads nothing.
    const third = countingHasher();
    await scanFolder(root, state, third);
    expect(third.hashed).toEqual([]);
  });

  it('moves: a file below a renamed folder keeps its hash by device and inode; a file renamed itself, or a reused inode, is read', async () => {
    await put('docs/a.txt', 'renamed itself: read again, same hash');
    await put('docs/b.txt', 'replaced');
    await put('photos/x.jpg', 'below a renamed folder: not read');
    const first = countingHasher();
    const scan = await scanFolder(root, state, first);
    expect(scan.files.get('docs/a.txt')!.fileId).toMatch(/^\d+:\d+$/);

    await rename(join(root, 'photos'), join(root, 'pictures'));
    await mkdir(join(root, 'archive'));
    await rename(join(root, 'docs', 'a.txt'), join(root, 'archive', 'a.txt'));
    // b.txt's inode given to a new file of other content (a rename over a fresh write shows the
    // same to the scan: the old identity at a new path, with another size and mtime).
    await rename(join(root, 'docs', 'b.txt'), join(root, 'c.txt'));
    await writeFile(join(root, 'c.txt'), 'other content now');
    await utimes(join(root, 'c.txt'), new Date(), new Date(Date.now() + 5000));
    const second = countingHasher();
    const after = await scanFolder(root, state, second);
    // A rename moves the renamed inode's ctime (Linux), not the ctimes of the files below it.
    const renamedItself =
      (await lstat(join(root, 'archive', 'a.txt'))).ctimeMs !== scan.files.get('docs/a.txt')!.ctimeMs;
    expect(second.hashed.sort()).toEqual(
      [...(renamedItself ? [join(root, 'archive', 'a.txt')] : []), join(root, 'c.txt')].sort(),
    );
    expect(after.files.get('pictures/x.jpg')).toMatchObject({
      contentHash: scan.files.get('photos/x.jpg')!.contentHash,
      fileId: scan.files.get('photos/x.jpg')!.fileId,
    });
    expect(after.files.get('archive/a.txt')).toMatchObject({
      contentHash: scan.files.get('docs/a.txt')!.contentHash,
      fileId: scan.files.get('docs/a.txt')!.fileId,
    });
    expect(after.files.get('c.txt')!.contentHash).toBe(
      contentHash([blockHash(Buffer.from('other content now'))]),
    );
    // The new paths' cache rows carry the identity, so the next scan reads nothing.
    const third = countingHasher();
    await scanFolder(root, state, third);
    expect(third.hashed).toEqual([]);
  });

  it('never takes a file edited with its mtime put back and then renamed for the file it was', async () => {
    await put('music/a.mp3', 'tags before');
    const file = join(root, 'music', 'a.mp3');
    const mtime = new Date(1_700_000_000_000);
    await utimes(file, mtime, mtime);
    const scan = await scanFolder(root, state, countingHasher());
    const seen = scan.files.get('music/a.mp3')!;
    for (;;) {
      await writeFile(file, 'tags after!');
      await utimes(file, mtime, mtime);
      if ((await lstat(file)).ctimeMs !== seen.ctimeMs) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await rename(file, join(root, 'music', 'b.mp3'));
    const after = await scanFolder(root, state, countingHasher());
    expect(after.files.get('music/b.mp3')!.contentHash).toBe(
      contentHash([blockHash(Buffer.from('tags after!'))]),
    );
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
  it('skips a path longer than the room its remote path leaves, and never takes it for deleted', async () => {
    // The room a long remote path leaves (pathRoom): real 4 KiB paths exceed what the OS opens.
    const room = 100;
    const fits = `deep/${'f'.repeat(room - 9)}.txt`;
    const tooLong = `deep/${'l'.repeat(room - 8)}.txt`;
    await put(fits, 'fits');
    await put(tooLong, 'too long');
    state.put(root, {
      path: tooLong,
      baseVersion: 2,
      baseContentHash: 'h',
      size: 8,
      mtimeMs: 1,
      contentHash: 'h',
      blocks: [],
    });
    const scan = await scanFolder(root, state, inlineHasher, { maxPathBytes: room });
    expect([...scan.files.keys()]).toEqual([fits]);
    expect(scan.skipped).toEqual([
      { path: tooLong, reason: expect.stringContaining(`longer than ${room} bytes`) },
    ]);
    expect(scan.unknown.covers(tooLong)).toBe(true);
    expect(manifestOf(scan).filter((entry) => entry.deleted)).toEqual([]);
  });

  it('sends its manifest in the order the server lists and sync-diff merges (code point order)', async () => {
    // JavaScript's `<` puts U+1F600 (a surrogate pair) before U+FF5E; UTF-8 and DynamoDB after.
    await put('a\uFF5E.txt', 'fullwidth tilde');
    await put('a\u{1F600}.txt', 'emoji');
    await put('a.txt', 'plain');
    const manifest = manifestOf(await scanFolder(root, state, inlineHasher));
    expect(manifest.map((entry) => entry.path)).toEqual(['a.txt', 'a\uFF5E.txt', 'a\u{1F600}.txt']);
  });
});

describe('kind 1: what the scan cannot see is never a deletion', () => {
  let root: string;
  let outside: string;
  let state: StateDb;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'scan-unknown-'));
    outside = await mkdtemp(join(tmpdir(), 'scan-outside-'));
    state = StateDb.open(':memory:');
  });
  afterEach(async () => {
    state.close();
    await chmod(root, 0o700).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  async function put(path: string, content: string) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }

  /** Scans once and marks every file found as synced (version 1), as a finished pass would. */
  async function syncedTree(files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) await put(path, content);
    const scan = await scanFolder(root, state, inlineHasher);
    for (const file of scan.files.values()) {
      state.put(root, { ...state.get(root, file.path)!, baseVersion: 1, baseContentHash: file.contentHash });
    }
  }

  /** node:fs, except that the given absolute paths fail as a real disk would. */
  function faulty(faults: {
    readdir?: Record<string, string>;
    lstat?: Record<string, string>;
  }): ScanFileSystem {
    const fail = (code: string, path: string) =>
      Object.assign(new Error(`${code}: injected, '${path}'`), { code });
    return {
      readdir: async (dir) => {
        const code = faults.readdir?.[dir];
        if (code) throw fail(code, dir);
        return nodeScanFileSystem.readdir(dir);
      },
      lstat: async (path) => {
        const code = faults.lstat?.[path];
        if (code) throw fail(code, path);
        return nodeScanFileSystem.lstat(path);
      },
    };
  }

  const deletedPaths = (scan: Awaited<ReturnType<typeof scanFolder>>) => scan.deleted.map((row) => row.path);
  const manifestPaths = (scan: Awaited<ReturnType<typeof scanFolder>>) =>
    manifestOf(scan).map((entry) => `${entry.path}${entry.deleted ? ' (deleted)' : ''}`);

  it('a folder that cannot be read: everything below it is unknown, not deleted', async () => {
    await syncedTree({
      'top.txt': 't',
      'private/a.txt': 'a',
      'private/deep/b.txt': 'b',
      'public/c.txt': 'c',
    });
    state.put(root, {
      ...state.get(root, 'public/c.txt')!,
      path: 'private/never-synced.txt',
      baseVersion: 0,
    });
    await rm(join(root, 'top.txt'));

    const scan = await scanFolder(root, state, inlineHasher, {
      fileSystem: faulty({ readdir: { [join(root, 'private')]: 'EACCES' } }),
    });
    expect(deletedPaths(scan)).toEqual(['top.txt']);
    expect(manifestPaths(scan)).toEqual(['public/c.txt', 'top.txt (deleted)']);
    expect(scan.skipped).toEqual([
      { path: 'private', reason: expect.stringMatching(/^cannot read folder: EACCES/) },
    ]);
    expect(scan.unknown.list()).toEqual(['private']);
    expect(scan.excluded('private/deep/b.txt')).toBe(true);
    expect(scan.excluded('private')).toBe(true);
    expect(scan.excluded('privateer.txt')).toBe(false);
    // Not even a never-synced row below it is forgotten: the scan knows nothing about it.
    expect(state.get(root, 'private/never-synced.txt')).toBeDefined();
  });

  it('an I/O error on a folder, and a folder gone between its listing and its own', async () => {
    await syncedTree({ 'disk/a.txt': 'a', 'gone/b.txt': 'b', 'kept.txt': 'k' });
    const scan = await scanFolder(root, state, inlineHasher, {
      fileSystem: faulty({ readdir: { [join(root, 'disk')]: 'EIO', [join(root, 'gone')]: 'ENOENT' } }),
    });
    expect(deletedPaths(scan)).toEqual([]);
    expect(manifestPaths(scan)).toEqual(['kept.txt']);
    expect(scan.skipped).toEqual(
      expect.arrayContaining([
        { path: 'disk', reason: expect.stringMatching(/^cannot read folder: EIO/) },
        { path: 'gone', reason: SKIP_REASONS.vanished },
      ]),
    );
  });

  it('a file gone between readdir and stat, or that cannot be stat-ed, is unknown', async () => {
    await syncedTree({ 'notes/vanishing.txt': 'v', 'notes/unstatable.txt': 'u', 'notes/fine.txt': 'f' });
    const scan = await scanFolder(root, state, inlineHasher, {
      fileSystem: faulty({
        lstat: { [join(root, 'notes/vanishing.txt')]: 'ENOENT', [join(root, 'notes/unstatable.txt')]: 'EIO' },
      }),
    });
    expect(deletedPaths(scan)).toEqual([]);
    expect(manifestPaths(scan)).toEqual(['notes/fine.txt']);
    expect(scan.skipped).toEqual(
      expect.arrayContaining([
        { path: 'notes/vanishing.txt', reason: SKIP_REASONS.vanished },
        { path: 'notes/unstatable.txt', reason: expect.stringMatching(/^cannot stat: EIO/) },
      ]),
    );
  });

  it('a file the hasher cannot read is unknown', async () => {
    await syncedTree({ 'a.txt': 'a', 'b.txt': 'b' });
    await put('a.txt', 'changed, so it is read again');
    const failing: Hasher = {
      hash: async (path, size) => {
        if (path.endsWith('a.txt')) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
        return inlineHasher.hash(path, size);
      },
      close: async () => undefined,
    };
    const scan = await scanFolder(root, state, failing);
    expect(deletedPaths(scan)).toEqual([]);
    expect(scan.unknown.list()).toEqual(['a.txt']);
    expect(scan.skipped).toEqual([{ path: 'a.txt', reason: 'cannot read: EIO: i/o error, read' }]);
  });

  it('a symlink (to a folder or a file, dangling or not) is unknown, never followed', async () => {
    await syncedTree({ 'docs/plan.md': 'p', 'link.txt': 'was a file', 'top.txt': 't' });
    await writeFile(join(outside, 'elsewhere.txt'), 'outside the folder');
    await rm(join(root, 'docs'), { recursive: true });
    await symlink(outside, join(root, 'docs'));
    await rm(join(root, 'link.txt'));
    await symlink(join(root, 'nowhere'), join(root, 'link.txt'));

    const scan = await scanFolder(root, state, inlineHasher);
    expect(deletedPaths(scan)).toEqual([]);
    expect(manifestPaths(scan)).toEqual(['top.txt']);
    expect(scan.skipped).toEqual(
      expect.arrayContaining([
        { path: 'docs', reason: SKIP_REASONS.symlink },
        { path: 'link.txt', reason: SKIP_REASONS.symlink },
      ]),
    );
    expect(scan.excluded('docs/elsewhere.txt')).toBe(true);
  });

  it('a folder replaced by a symlink after its parent was listed is not listed through the link', async () => {
    await syncedTree({ 'docs/plan.md': 'p' });
    await writeFile(join(outside, 'elsewhere.txt'), 'outside the folder');
    await rm(join(root, 'docs'), { recursive: true });
    await symlink(outside, join(root, 'docs'));
    // The parent's listing still says "folder", as it would have a moment before the swap.
    const stale: ScanFileSystem = {
      ...nodeScanFileSystem,
      readdir: async (dir) =>
        (await nodeScanFileSystem.readdir(dir)).map((entry) =>
          entry.name.toString() === 'docs'
            ? { name: entry.name, isFile: () => false, isDirectory: () => true, isSymbolicLink: () => false }
            : entry,
        ),
    };
    const scan = await scanFolder(root, state, inlineHasher, { fileSystem: stale });
    expect([...scan.files.keys()]).toEqual([]);
    expect(deletedPaths(scan)).toEqual([]);
    expect(scan.skipped).toEqual([{ path: 'docs', reason: SKIP_REASONS.symlink }]);
  });

  it('a name that is not valid UTF-8 is skipped as undecodable, not as missing', async () => {
    await put('ok.txt', 'fine');
    await writeFile(
      Buffer.concat([Buffer.from(`${root}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]),
      'x',
    );
    const scan = await scanFolder(root, state, inlineHasher);
    expect([...scan.files.keys()]).toEqual(['ok.txt']);
    expect(scan.skipped).toEqual([{ path: 'bad-\\xff\\xfe.txt', reason: SKIP_REASONS.undecodable }]);
  });

  it('kind 1: an undecodable name never hides the valid name its lossy decoding spells', async () => {
    const raw = (...parts: (string | number[])[]) =>
      Buffer.concat([
        Buffer.from(`${root}/`),
        ...parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))),
      ]);
    // A synced file deleted locally, while a file with an undecodable look-alike name appeared.
    await syncedTree({ 'gone\uFFFD.txt': 'synced' });
    await rm(join(root, 'gone\uFFFD.txt'));
    await writeFile(raw('gone', [0xfe], '.txt'), 'undecodable twin');
    await writeFile(raw('bad', [0xff], '.txt'), 'undecodable');
    await put('bad\uFFFD.txt', 'a real file whose name holds U+FFFD');
    await mkdir(raw('dir', [0xc3]));
    await writeFile(raw('dir', [0xc3], '/inside.txt'), 'below an undecodable folder');
    await put('dir\uFFFD/inside.txt', 'below a valid folder');

    const scan = await scanFolder(root, state, inlineHasher);
    expect([...scan.files.keys()].sort()).toEqual(['bad\uFFFD.txt', 'dir\uFFFD/inside.txt']);
    expect(scan.unknown.list()).toEqual([]);
    for (const path of ['bad\uFFFD.txt', 'dir\uFFFD/inside.txt', 'gone\uFFFD.txt'])
      expect(scan.excluded(path)).toBe(false);
    expect(deletedPaths(scan)).toEqual(['gone\uFFFD.txt']);
    expect(scan.skipped.map((skip) => skip.path).sort()).toEqual([
      'bad\\xff.txt',
      'dir\\xc3',
      'gone\\xfe.txt',
    ]);
    expect(new Set(scan.skipped.map((skip) => skip.reason))).toEqual(new Set([SKIP_REASONS.undecodable]));
  });

  it('a synced folder that cannot be listed at all stops the scan instead of looking empty', async () => {
    await syncedTree({ 'a.txt': 'a' });
    await expect(
      scanFolder(root, state, inlineHasher, { fileSystem: faulty({ readdir: { [root]: 'EIO' } }) }),
    ).rejects.toThrow(FolderUnreadableError);
    await rm(root, { recursive: true });
    await expect(scanFolder(root, state, inlineHasher)).rejects.toThrow(FolderUnreadableError);
    expect(state.get(root, 'a.txt')?.baseVersion).toBe(1);
  });
});
