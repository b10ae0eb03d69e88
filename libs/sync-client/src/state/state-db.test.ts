import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDb, type FileState } from './state-db';

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
  };

  it('keeps rows, folders and cursors across reopening', () => {
    const file = join(dir, 'home', 'state.db');
    const db = StateDb.open(file);
    db.bindFolder('/sync/a', 'ns-1');
    db.transaction(() => {
      db.put('/sync/a', row);
      db.put('/sync/a', { ...row, path: 'new.txt', baseVersion: 0, baseContentHash: '' });
    });
    db.markSynced('/sync/a', 42, 1000);
    db.close();

    const again = StateDb.open(file);
    expect(again.get('/sync/a', row.path)).toEqual(row);
    expect([...again.files('/sync/a').keys()].sort()).toEqual(['docs/ré sumé.txt', 'new.txt']);
    expect(again.files('/sync/b').size).toBe(0);
    expect(again.folders()).toEqual([
      { root: '/sync/a', namespaceId: 'ns-1', cursor: 42, lastSyncAtMs: 1000, files: 1 },
    ]);
    again.delete('/sync/a', row.path);
    expect(again.get('/sync/a', row.path)).toBeUndefined();
    again.close();
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
});
