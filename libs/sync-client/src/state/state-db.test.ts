import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { STATE_SCHEMA_VERSION, StateDb, StateDbTooNewError, type FileState } from './state-db';

describe('StateDb', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'state-db-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const row: FileState = {
    path: 'docs/ré sumé.txt',
    baseVersion: 3,
    baseContentHash: 'a'.repeat(64),
    size: 30,
    mtimeMs: 1_700_000_000_123.25,
    contentHash: 'b'.repeat(64),
    blocks: [
      { hash: 'c'.repeat(64), offset: 0, length: 10 },
      { hash: 'd'.repeat(64), offset: 10, length: 20 },
    ],
    ctimeMs: 1_700_000_000_456.5,
  };

  it('keeps rows, folders and cursors across reopening', () => {
    const file = join(dir, 'home', 'state.db');
    const db = StateDb.open(file);
    db.bindFolder('/sync/a', 'ns-1');
    db.transaction(() => {
      db.put('/sync/a', row);
      db.put('/sync/a', { ...row, path: 'new.txt', baseVersion: 0, baseContentHash: '' });
    });
    db.markSynced('/sync/a', 42, 1000, { full: true, rulesHash: 'r1' });
    db.close();

    const again = StateDb.open(file);
    expect(again.get('/sync/a', row.path)).toEqual(row);
    expect([...again.files('/sync/a').keys()].sort()).toEqual(['docs/ré sumé.txt', 'new.txt']);
    expect(again.files('/sync/b').size).toBe(0);
    expect(again.folders()).toEqual([
      {
        root: '/sync/a',
        namespaceId: 'ns-1',
        remotePath: '',
        cursor: 42,
        lastSyncAtMs: 1000,
        lastFullAtMs: 1000,
        rulesHash: 'r1',
        files: 1,
        watcherPid: 0,
        lastPassAtMs: 0,
        lastPassOutcome: '',
        lastError: '',
      },
    ]);
    again.delete('/sync/a', row.path);
    expect(again.get('/sync/a', row.path)).toBeUndefined();
    again.close();
  });

  it("reads a folder's rows back as written, with and without an identity, by files() and get() alike", () => {
    const db = StateDb.open(':memory:');
    const moved: FileState = { ...row, path: 'b.txt', baseVersion: 0, baseContentHash: '', fileId: '5:77' };
    const synced: FileState = { ...row, path: 'c.txt', baseContentHash: row.contentHash };
    for (const state of [row, moved, synced]) db.put('/r', state);
    const files = db.files('/r');
    expect([...files.values()].sort((a, b) => a.path.localeCompare(b.path))).toEqual(
      [moved, synced, row].sort((a, b) => a.path.localeCompare(b.path)),
    );
    for (const state of [row, moved, synced]) expect(db.get('/r', state.path)).toEqual(state);
    expect('fileId' in files.get(row.path)!).toBe(false);
    db.close();
  });

  it('lists folders without counting their files when asked for records (folderRecord, folderRecords)', () => {
    const db = StateDb.open(':memory:');
    db.bindFolder('/b', 'ns', 'Photos');
    db.bindFolder('/a', 'ns');
    db.put('/a', row);
    db.put('/a', { ...row, path: 'never synced', baseVersion: 0 });
    const { files, ...record } = db.folder('/a')!;
    expect(files).toBe(1);
    expect(db.folderRecord('/a')).toEqual(record);
    expect(db.folderRecord('/a')).not.toHaveProperty('files');
    expect(db.folderRecord('/c')).toBeUndefined();
    expect(db.folderRecords()).toEqual(db.folders().map(({ files: _files, ...rest }) => rest));
    expect(db.folderRecords().map((folder) => folder.root)).toEqual(['/a', '/b']);
    db.close();
  });

  it("records each folder's watcher and last pass, and which folders hold synced paths", () => {
    const db = StateDb.open(':memory:');
    db.bindFolder('/r', 'ns');
    db.put('/r', { ...row, path: 'docs/a.txt', baseVersion: 1 });
    db.put('/r', { ...row, path: 'docs0', baseVersion: 1 });
    db.recordPass('/r', { atMs: 5, outcome: 'failed', error: 'server unreachable' });
    db.setWatcher('/r', 1234);
    expect(db.folder('/r')).toMatchObject({
      watcherPid: 1234,
      lastPassAtMs: 5,
      lastPassOutcome: 'failed',
      lastError: 'server unreachable',
    });
    db.clearWatcher('/r', 999);
    expect(db.folder('/r')?.watcherPid).toBe(1234);
    db.clearWatcher('/r', 1234);
    expect(db.folder('/r')?.watcherPid).toBe(0);
    expect(db.syncedBelow('/r', 'docs')).toBe(true);
    expect(db.syncedBelow('/r', 'doc')).toBe(false);
    db.delete('/r', 'docs/a.txt');
    expect(db.syncedBelow('/r', 'docs')).toBe(false);
    db.close();
  });

  it('rolls a failed transaction back', () => {
    const db = StateDb.open(':memory:');
    expect(() =>
      db.transaction(() => {
        db.put('/r', row);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(db.get('/r', row.path)).toBeUndefined();
    db.close();
  });

  it('migrates a database of the unversioned schema, keeping its rows and resetting its cursor', () => {
    const file = join(dir, 'old.db');
    const old = new DatabaseSync(file);
    old.exec(`
      CREATE TABLE folders (root TEXT PRIMARY KEY, namespace_id TEXT NOT NULL,
        cursor INTEGER NOT NULL DEFAULT 0, last_sync_ms INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE files (root TEXT NOT NULL, path TEXT NOT NULL, base_version INTEGER NOT NULL,
        base_content_hash TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms REAL NOT NULL,
        content_hash TEXT NOT NULL, block_hashes TEXT NOT NULL, block_lengths TEXT NOT NULL,
        PRIMARY KEY (root, path)) WITHOUT ROWID;
      INSERT INTO folders VALUES ('/r', 'ns', 17, 5);
      INSERT INTO files VALUES ('/r', 'a.txt', 3, '${'a'.repeat(64)}', 4, 9, '${'a'.repeat(64)}', '["${'c'.repeat(64)}"]', '[4]');
    `);
    old.close();

    const db = StateDb.open(file);
    // A cursor kept by a client that did not remember failed downloads cannot be trusted.
    expect(db.folder('/r')).toMatchObject({ cursor: 0, lastSyncAtMs: 5, lastFullAtMs: 0, files: 1 });
    expect(db.get('/r', 'a.txt')).toMatchObject({ baseVersion: 3, size: 4, blocks: [{ length: 4 }] });
    db.close();
    const raw = new DatabaseSync(file);
    expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: STATE_SCHEMA_VERSION });
    raw.close();
    // Opening again runs nothing twice.
    StateDb.open(file).close();
  });

  it('migrates a database of version 2: every folder stays bound to the root, its cursor and rows kept', () => {
    const file = join(dir, 'v2.db');
    const v2 = new DatabaseSync(file);
    v2.exec(`
      CREATE TABLE folders (root TEXT PRIMARY KEY, namespace_id TEXT NOT NULL,
        cursor INTEGER NOT NULL DEFAULT 0, last_sync_ms INTEGER NOT NULL DEFAULT 0,
        last_full_ms INTEGER NOT NULL DEFAULT 0, rules_hash TEXT NOT NULL DEFAULT '');
      CREATE TABLE files (root TEXT NOT NULL, path TEXT NOT NULL, base_version INTEGER NOT NULL,
        base_content_hash TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms REAL NOT NULL,
        content_hash TEXT NOT NULL, block_hashes TEXT NOT NULL, block_lengths TEXT NOT NULL,
        PRIMARY KEY (root, path)) WITHOUT ROWID;
      CREATE TABLE remote_pending (root TEXT NOT NULL, path TEXT NOT NULL, version INTEGER NOT NULL,
        deleted INTEGER NOT NULL, content_hash TEXT NOT NULL, PRIMARY KEY (root, path)) WITHOUT ROWID;
      INSERT INTO folders VALUES ('/r', 'ns', 17, 5, 4, 'rules');
      INSERT INTO files VALUES ('/r', 'a.txt', 3, '${'a'.repeat(64)}', 4, 9, '${'a'.repeat(64)}', '["${'c'.repeat(64)}"]', '[4]');
      PRAGMA user_version = 2;
    `);
    v2.close();

    const db = StateDb.open(file);
    // An upgrade changes nothing: the incremental cursor survives, the folder mirrors the root.
    expect(db.folder('/r')).toEqual({
      root: '/r',
      namespaceId: 'ns',
      remotePath: '',
      cursor: 17,
      lastSyncAtMs: 5,
      lastFullAtMs: 4,
      rulesHash: 'rules',
      files: 1,
      watcherPid: 0,
      lastPassAtMs: 0,
      lastPassOutcome: '',
      lastError: '',
    });
    // Rows from before ctimes were kept have none (0): they compare by size and mtime.
    expect(db.get('/r', 'a.txt')).toMatchObject({ baseVersion: 3, ctimeMs: 0 });
    db.close();
    const raw = new DatabaseSync(file);
    expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: STATE_SCHEMA_VERSION });
    raw.close();
  });

  it("keeps a bound folder's remote path when it is bound again", () => {
    const db = StateDb.open(':memory:');
    db.bindFolder('/photos', 'ns', 'Photos');
    db.markSynced('/photos', 3, 1, { full: true, rulesHash: '' });
    db.bindFolder('/photos', 'ns');
    expect(db.folder('/photos')).toMatchObject({ remotePath: 'Photos', cursor: 3 });
    db.forgetFolder('/photos');
    db.bindFolder('/photos', 'ns', 'Other');
    expect(db.folder('/photos')).toMatchObject({ remotePath: 'Other', cursor: 0 });
    db.close();
  });

  it('refuses a database written by a newer client, leaving it untouched', () => {
    const file = join(dir, 'new.db');
    StateDb.open(file).close();
    const raw = new DatabaseSync(file);
    raw.exec(`PRAGMA journal_mode = DELETE; PRAGMA user_version = ${STATE_SCHEMA_VERSION + 1}`);
    raw.close();
    const before = readFileSync(file);
    expect(() => StateDb.open(file)).toThrow(StateDbTooNewError);
    expect(() => StateDb.open(file)).toThrow(/newer filesync/);
    // Not even its journal mode changed.
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('keeps pending server changes until the synced base catches up with them', () => {
    const db = StateDb.open(':memory:');
    db.bindFolder('/r', 'ns');
    db.put('/r', { ...row, path: 'down.txt', baseVersion: 2 });
    db.put('/r', { ...row, path: 'gone.txt', baseVersion: 4 });
    db.putPending('/r', [
      { path: 'down.txt', version: 5, deleted: false, contentHash: 'e'.repeat(64) },
      { path: 'gone.txt', version: 6, deleted: true, contentHash: '' },
      { path: 'new.txt', version: 1, deleted: false, contentHash: 'e'.repeat(64) },
    ]);
    expect(db.settlePending('/r')).toBe(3);

    db.put('/r', { ...row, path: 'down.txt', baseVersion: 5 });
    db.delete('/r', 'gone.txt');
    expect(db.settlePending('/r')).toBe(1);
    expect(db.pending('/r').map((pending) => pending.path)).toEqual(['new.txt']);
    // Another folder's rows are its own.
    expect(db.pending('/other')).toEqual([]);
    db.close();
  });

  it('forgets the cursor when a folder is bound to another namespace', () => {
    const db = StateDb.open(':memory:');
    db.bindFolder('/r', 'ns-1');
    db.markSynced('/r', 9, 1, { full: true, rulesHash: '' });
    db.bindFolder('/r', 'ns-1');
    expect(db.folder('/r')?.cursor).toBe(9);
    db.bindFolder('/r', 'ns-2');
    expect(db.folder('/r')?.cursor).toBe(0);
    db.close();
  });

  it('keeps a full diff checkpoint across reopening until the pass ends, the folder is forgotten or moved', () => {
    const file = join(dir, 'state.db');
    const db = StateDb.open(file);
    db.bindFolder('/r', 'ns-1');
    const checkpoint = {
      namespaceId: 'ns-1',
      remotePath: '',
      rulesHash: 'r1',
      throughPath: 'b',
      cursor: 7,
      startedMs: 1000,
    };
    const server = { path: 'a', version: 2, blockHashes: ['c'.repeat(64)] };
    db.saveDiffProgress('/r', checkpoint, [
      { path: 'a', server },
      { path: 'a2', server: undefined },
    ]);
    db.saveDiffProgress('/r', { ...checkpoint, throughPath: 'c' }, [{ path: 'c', server: { path: 'c' } }]);
    db.close();
    const again = StateDb.open(file);
    expect(again.diffCheckpoint('/r')).toEqual({ ...checkpoint, throughPath: 'c' });
    expect([...again.diffCheckpointEntries('/r')]).toEqual([
      ['a', server],
      ['a2', undefined],
      ['c', { path: 'c' }],
    ]);
    again.markSynced('/r', 7, 2000, { full: true, rulesHash: 'r1' });
    expect(again.diffCheckpoint('/r')).toBeUndefined();
    expect(again.diffCheckpointEntries('/r').size).toBe(0);
    for (const end of [() => again.forgetFolder('/r'), () => again.moveFolder('/r', '/s')]) {
      again.bindFolder('/r', 'ns-1');
      again.saveDiffProgress('/r', checkpoint, [{ path: 'a', server }]);
      end();
      expect(again.diffCheckpoint('/r')).toBeUndefined();
      expect(again.diffCheckpointEntries('/r').size).toBe(0);
      expect(again.diffCheckpoint('/s')).toBeUndefined();
      again.forgetFolder('/s');
    }
    again.close();
  });
});
