import { decide, type LocalEntry, type ServerState } from './decide';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

function local(overrides: Partial<LocalEntry> = {}): LocalEntry {
  return {
    path: 'docs/x.txt',
    contentHash: A,
    size: 3,
    baseVersion: 0,
    baseContentHash: '',
    deleted: false,
    ...overrides,
  };
}

const live = (version: number, contentHash: string): ServerState => ({
  version,
  deleted: false,
  contentHash,
});
const tombstone = (version: number): ServerState => ({ version, deleted: true, contentHash: '' });

describe('decide', () => {
  describe('path only on the server', () => {
    it('downloads a live server file', () => {
      const server = live(2, A);
      expect(decide(undefined, server)).toEqual({ kind: 'download', baseVersion: 0, server });
    });

    it('ignores a tombstone the client never had', () => {
      expect(decide(undefined, tombstone(3))).toBeUndefined();
    });

    it('does nothing when neither side knows the path', () => {
      expect(decide(undefined, undefined)).toBeUndefined();
    });
  });

  describe('path only in the manifest', () => {
    it('uploads a new local file with base 0', () => {
      expect(decide(local(), undefined)).toEqual({ kind: 'upload', baseVersion: 0, server: undefined });
    });

    it('needs nothing for a local deletion the server never saw', () => {
      expect(
        decide(local({ deleted: true, contentHash: '', baseVersion: 1, baseContentHash: A }), undefined),
      ).toBeUndefined();
    });
  });

  describe('equal contents', () => {
    it('needs nothing when the client already recorded the server version', () => {
      expect(decide(local({ baseVersion: 4, baseContentHash: A }), live(4, A))).toBeUndefined();
    });

    it('records the server version when the client has another base', () => {
      const server = live(5, A);
      expect(decide(local({ baseVersion: 4, baseContentHash: B }), server)).toEqual({
        kind: 'record',
        baseVersion: 0,
        server,
      });
    });

    it('records when both sides created the same content independently', () => {
      const server = live(1, A);
      expect(decide(local(), server)?.kind).toBe('record');
    });
  });

  describe('local unchanged since base', () => {
    const unchanged = local({ baseVersion: 2, baseContentHash: A });

    it('downloads a newer server version', () => {
      const server = live(3, B);
      expect(decide(unchanged, server)).toEqual({ kind: 'download', baseVersion: 0, server });
    });

    it('deletes locally when the server deleted the file', () => {
      const server = tombstone(3);
      expect(decide(unchanged, server)).toEqual({ kind: 'delete-local', baseVersion: 0, server });
    });

    it('treats a server version below the base as a newer one', () => {
      expect(decide(unchanged, live(1, B))?.kind).toBe('download');
    });
  });

  describe('local changed since base', () => {
    const changed = local({ contentHash: B, baseVersion: 2, baseContentHash: A });

    it('uploads on the server version when the server did not move', () => {
      const server = live(2, A);
      expect(decide(changed, server)).toEqual({ kind: 'upload', baseVersion: 2, server });
    });

    it('conflicts when the server moved too', () => {
      const server = live(3, C);
      expect(decide(changed, server)).toEqual({ kind: 'conflict', baseVersion: 0, server });
    });

    it('uploads on top of a newer tombstone: the edit wins over the delete', () => {
      const server = tombstone(3);
      expect(decide(changed, server)).toEqual({ kind: 'upload', baseVersion: 3, server });
    });

    it('uploads a file recreated after a delete the client had synced', () => {
      const recreated = local({ contentHash: B, baseVersion: 3, baseContentHash: '' });
      expect(decide(recreated, tombstone(3))).toEqual({
        kind: 'upload',
        baseVersion: 3,
        server: tombstone(3),
      });
    });

    it('conflicts when a never-synced local file meets a different server file', () => {
      expect(decide(local({ contentHash: B }), live(1, A))?.kind).toBe('conflict');
    });

    it('uploads a never-synced local file over a tombstone', () => {
      expect(decide(local({ contentHash: B }), tombstone(2))).toEqual({
        kind: 'upload',
        baseVersion: 2,
        server: tombstone(2),
      });
    });

    it('never downloads over a never-synced file whose base hash happens to match', () => {
      expect(decide(local({ contentHash: B, baseContentHash: B }), live(1, A))?.kind).toBe('conflict');
    });
  });

  describe('local deleted', () => {
    const deleted = local({ deleted: true, contentHash: '', baseVersion: 2, baseContentHash: A });

    it('deletes remotely when the server is still at the base', () => {
      const server = live(2, A);
      expect(decide(deleted, server)).toEqual({ kind: 'delete-remote', baseVersion: 2, server });
    });

    it('downloads a newer server version: the edit wins over the delete', () => {
      const server = live(3, B);
      expect(decide(deleted, server)).toEqual({ kind: 'download', baseVersion: 0, server });
    });

    it('records a server tombstone', () => {
      const server = tombstone(3);
      expect(decide(deleted, server)).toEqual({ kind: 'record', baseVersion: 0, server });
    });

    it('records a tombstone at the base too, so the client can forget the path', () => {
      expect(decide(local({ deleted: true, contentHash: '', baseVersion: 3 }), tombstone(3))?.kind).toBe(
        'record',
      );
    });

    it('treats an empty content hash as gone even without the flag', () => {
      expect(decide(local({ contentHash: '', baseVersion: 2, baseContentHash: A }), live(2, A))?.kind).toBe(
        'delete-remote',
      );
    });
  });
});
