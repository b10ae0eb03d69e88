import { LIMITS } from '@filesync/resources';
import {
  BoundRemote,
  localPathOf,
  parseRemotePath,
  pathRoom,
  RemotePathError,
  RemoteRootUnsupportedError,
  remotePathOf,
  remotePathsOverlap,
} from './remote-binding';
import type { FileChange, ManifestEntry, ServerEntry } from './model';
import type { CommitOutcome, DiffOptions, DiffOutcome, DiffProgress, SyncRemote } from './remote';

const H = 'a'.repeat(64);

function entry(path: string, version = 1): ServerEntry {
  return {
    path,
    version,
    deleted: false,
    contentHash: H,
    size: 1,
    blockHashes: [],
    modifiedAtMs: 0,
    journalSeq: version,
    movedFrom: '',
    movedTo: '',
  };
}

/** Records what the engine's calls look like on the wire side of the binding. */
class RecordingRemote implements SyncRemote {
  manifest: string[] = [];
  diffOptions: DiffOptions | undefined;
  changes: FileChange[] = [];
  committed: string[] = [];
  committedMoves: (string | undefined)[] = [];
  constructor(
    private readonly answer: DiffOutcome,
    private readonly commitAnswer: CommitOutcome = { results: [], cursor: 0 },
  ) {}
  async diff(_ns: string, manifest: Iterable<ManifestEntry>, options?: DiffOptions) {
    this.manifest = [...manifest].map((item) => item.path);
    this.diffOptions = options;
    return this.answer;
  }
  async commitFiles(_ns: string, changes: readonly FileChange[]) {
    this.changes = [...changes];
    this.committed = changes.map((change) => change.path);
    this.committedMoves = changes.map((change) => change.moveFrom?.path);
    return this.commitAnswer;
  }
  async findMissingBlocks() {
    return [];
  }
  async locateBlocks() {
    return { locations: [], missing: [] };
  }
  async registerPacks() {}
}

const manifestEntry = (path: string): ManifestEntry => ({
  path,
  contentHash: H,
  size: 1,
  baseVersion: 0,
  baseContentHash: '',
  deleted: false,
});

describe('remote paths of a bound folder', () => {
  it('parses what people type into the canonical form the state keeps', () => {
    expect(parseRemotePath('/')).toBe('');
    expect(parseRemotePath('')).toBe('');
    expect(parseRemotePath('/Photos')).toBe('Photos');
    expect(parseRemotePath('Photos/')).toBe('Photos');
    expect(parseRemotePath(' /Photos/2024 ')).toBe('Photos/2024');
    // NFD in, NFC kept: the server's paths are NFC.
    expect(parseRemotePath('/Cafe\u0301')).toBe('Caf\u00e9');
    for (const bad of ['/a//b', '/a/../b', '/a\\b', '/a\nb', `/${'x'.repeat(LIMITS.maxPathBytes)}`]) {
      expect(() => parseRemotePath(bad)).toThrow(RemotePathError);
    }
  });

  it('maps folder paths to namespace paths and back, exactly at the boundary', () => {
    expect(remotePathOf('', 'a/b.txt')).toBe('a/b.txt');
    expect(remotePathOf('Photos', 'a/b.txt')).toBe('Photos/a/b.txt');
    expect(remotePathOf('Photos', '')).toBe('Photos');
    expect(localPathOf('', 'x/y')).toBe('x/y');
    expect(localPathOf('Photos', 'Photos/a/b.txt')).toBe('a/b.txt');
    // Photos2 and Photos.txt share a prefix of the name, not the folder.
    expect(localPathOf('Photos', 'Photos2/a.jpg')).toBeUndefined();
    expect(localPathOf('Photos', 'Photos.txt')).toBeUndefined();
    expect(localPathOf('Photos', 'Photos')).toBeUndefined();
    expect(localPathOf('Photos/2024', 'Photos/a.jpg')).toBeUndefined();
  });

  it('counts the remote path in the 4 KiB limit of every path', () => {
    expect(pathRoom('')).toBe(LIMITS.maxPathBytes);
    expect(pathRoom('Photos')).toBe(LIMITS.maxPathBytes - 7);
    // Bytes, not characters: é is two.
    expect(pathRoom('Caf\u00e9')).toBe(LIMITS.maxPathBytes - 6);
    const longest = 'x'.repeat(pathRoom('Photos'));
    expect(Buffer.byteLength(remotePathOf('Photos', longest))).toBe(LIMITS.maxPathBytes);
  });

  it('tells overlapping remote paths: the same, nested, or the root', () => {
    expect(remotePathsOverlap('A', 'A')).toBe(true);
    expect(remotePathsOverlap('A', 'A/B')).toBe(true);
    expect(remotePathsOverlap('A/B', 'A')).toBe(true);
    expect(remotePathsOverlap('', 'Photos')).toBe(true);
    expect(remotePathsOverlap('Photos', '')).toBe(true);
    expect(remotePathsOverlap('Photos', 'Photos2')).toBe(false);
    expect(remotePathsOverlap('A/B', 'A/C')).toBe(false);
  });
});

describe('BoundRemote', () => {
  const summary = { cursor: 5, fullDiffRequired: false, incremental: false };

  it('sends the root and namespace paths, and hands the engine folder paths only', async () => {
    const inner = new RecordingRemote({
      ...summary,
      remoteRoot: 'Photos',
      actions: [
        { path: 'Photos/a.jpg', kind: 'download', baseVersion: 0, server: entry('Photos/a.jpg') },
        // Never below the root: a wrong server's answer is dropped, not written anywhere.
        { path: 'Photos2/b.jpg', kind: 'download', baseVersion: 0, server: entry('Photos2/b.jpg') },
        { path: 'Photos/new.jpg', kind: 'upload', baseVersion: 0, server: undefined },
      ],
      unrecognized: [
        { path: 'Photos/later.jpg', kind: 'ACTION_KIND_FROM_THE_FUTURE' },
        { path: 'Elsewhere/x.jpg', kind: '9' },
      ],
    });
    const outcome = await new BoundRemote(inner, 'Photos').diff('ns', [manifestEntry('new.jpg')], {
      sinceCursor: 3,
    });
    expect(inner.manifest).toEqual(['Photos/new.jpg']);
    expect(inner.diffOptions).toEqual({ sinceCursor: 3, remoteRoot: 'Photos' });
    expect(outcome.cursor).toBe(5);
    expect(outcome.actions.map((action) => [action.path, action.server?.path])).toEqual([
      ['a.jpg', 'a.jpg'],
      ['new.jpg', undefined],
    ]);
    expect(outcome.unrecognized).toEqual([{ path: 'later.jpg', kind: 'ACTION_KIND_FROM_THE_FUTURE' }]);
  });

  it('resumes after a folder path and hands progress back in folder paths', async () => {
    const inner = new RecordingRemote({
      ...summary,
      remoteRoot: 'Photos',
      resumeAfter: 'Photos/b.jpg',
      actions: [],
    });
    const seen: DiffProgress[] = [];
    const outcome = await new BoundRemote(inner, 'Photos').diff('ns', [], {
      resumeAfter: 'b.jpg',
      onProgress: (progress) => seen.push(progress),
    });
    expect(inner.diffOptions?.resumeAfter).toBe('Photos/b.jpg');
    expect(outcome.resumeAfter).toBe('b.jpg');
    inner.diffOptions?.onProgress?.({
      throughPath: 'Photos/c.jpg',
      cursor: 4,
      actions: [{ path: 'Photos/c.jpg', kind: 'download', baseVersion: 0, server: entry('Photos/c.jpg') }],
      unrecognized: 0,
    });
    // Not below the root: no resume point for this folder.
    inner.diffOptions?.onProgress?.({ throughPath: 'Other/x', cursor: 4, actions: [], unrecognized: 0 });
    expect(seen).toEqual([
      {
        throughPath: 'c.jpg',
        cursor: 4,
        actions: [{ path: 'c.jpg', kind: 'download', baseVersion: 0, server: entry('c.jpg') }],
        unrecognized: 0,
      },
    ]);
  });

  it('refuses the answer of a server that ignored the root, before anything is applied', async () => {
    const inner = new RecordingRemote({
      ...summary,
      remoteRoot: '',
      actions: [
        { path: 'Photos/a.jpg', kind: 'delete-local', baseVersion: 0, server: entry('Photos/a.jpg') },
      ],
    });
    await expect(new BoundRemote(inner, 'Photos').diff('ns', [])).rejects.toThrow(RemoteRootUnsupportedError);
    await expect(new BoundRemote(inner, 'Photos').diff('ns', [])).rejects.toThrow(/nothing was changed/);
  });

  it('is the plain remote for a folder bound to the root', async () => {
    const inner = new RecordingRemote({ ...summary, actions: [] });
    await new BoundRemote(inner, '').diff('ns', [manifestEntry('a.txt')]);
    expect(inner.manifest).toEqual(['a.txt']);
    expect(inner.diffOptions).toEqual({});
  });

  it('commits namespace paths and maps every result back, a clash above the root included', async () => {
    const inner = new RecordingRemote(
      { ...summary, actions: [] },
      {
        cursor: 9,
        results: [
          { kind: 'committed', path: 'Photos/a.jpg', entry: entry('Photos/a.jpg', 2) },
          { kind: 'conflict', path: 'Photos/b.jpg', current: entry('Photos/b.jpg', 4) },
          {
            kind: 'rejected',
            path: 'Photos/c/d.jpg',
            reason: 'path-clash',
            message: 'clash',
            clashingPath: 'Photos/c',
          },
          {
            kind: 'rejected',
            path: 'Photos/e.jpg',
            reason: 'path-clash',
            message: 'clash',
            clashingPath: 'Photos',
          },
          { kind: 'missing-blocks', path: 'Photos/f.jpg', blockHashes: [H] },
        ],
      },
    );
    const change = (path: string): FileChange => ({
      path,
      baseVersion: 0,
      content: undefined,
      modifiedAtMs: 0,
    });
    const outcome = await new BoundRemote(inner, 'Photos').commitFiles(
      'ns',
      ['a.jpg', 'b.jpg', 'c/d.jpg', 'e.jpg', 'f.jpg'].map(change),
    );
    expect(inner.committed).toEqual([
      'Photos/a.jpg',
      'Photos/b.jpg',
      'Photos/c/d.jpg',
      'Photos/e.jpg',
      'Photos/f.jpg',
    ]);
    expect(outcome.results.map((result) => result.path)).toEqual([
      'a.jpg',
      'b.jpg',
      'c/d.jpg',
      'e.jpg',
      'f.jpg',
    ]);
    expect(outcome.results[0]).toMatchObject({ entry: { path: 'a.jpg', version: 2 } });
    expect(outcome.results[1]).toMatchObject({ current: { path: 'b.jpg', version: 4 } });
    expect(outcome.results[2]).toMatchObject({ reason: 'path-clash', clashingPath: 'c' });
    // The folder's own place is a file: no local clash to settle, a reason for the person.
    expect(outcome.results[3]).toMatchObject({
      reason: 'other',
      clashingPath: '',
      message: expect.stringContaining('/Photos is a file'),
    });
    expect(outcome.results[4]).toEqual({ kind: 'missing-blocks', path: 'f.jpg', blockHashes: [H] });
  });

  it('maps both ends of a move, and a move across the root is no move for the folder', async () => {
    const moved = (path: string, movedFrom: string): ServerEntry => ({ ...entry(path, 2), movedFrom });
    const gone = (path: string, movedTo: string): ServerEntry => ({
      ...entry(path, 2),
      deleted: true,
      movedTo,
    });
    const inner = new RecordingRemote(
      {
        ...summary,
        remoteRoot: 'Photos',
        actions: [
          ['Photos/b.jpg', moved('Photos/b.jpg', 'Photos/a.jpg')],
          // Moved in from outside the folder: the folder never held it, a plain download.
          ['Photos/in.jpg', moved('Photos/in.jpg', 'Inbox/in.jpg')],
          // Moved out: gone from this folder, a plain local deletion.
          ['Photos/out.jpg', gone('Photos/out.jpg', 'Archive/out.jpg')],
        ].map(([path, server]) => ({
          path: path as string,
          kind: 'move-local' as const,
          baseVersion: 1,
          server: server as ServerEntry,
        })),
      },
      { cursor: 9, results: [] },
    );
    const remote = new BoundRemote(inner, 'Photos');
    const outcome = await remote.diff('ns', []);
    expect(
      outcome.actions.map((action) => [action.path, action.server?.movedFrom, action.server?.movedTo]),
    ).toEqual([
      ['b.jpg', 'a.jpg', ''],
      ['in.jpg', '', ''],
      ['out.jpg', '', ''],
    ]);
    await remote.commitFiles('ns', [
      {
        path: 'new/name.jpg',
        baseVersion: 0,
        content: { contentHash: H, size: 1, blockHashes: [] },
        modifiedAtMs: 0,
        moveFrom: { path: 'old/name.jpg', baseVersion: 3 },
      },
    ]);
    expect(inner.committed).toEqual(['Photos/new/name.jpg']);
    expect(inner.committedMoves).toEqual(['Photos/old/name.jpg']);
    expect(inner.changes[0]?.moveFrom).toEqual({ path: 'Photos/old/name.jpg', baseVersion: 3 });
  });
});
