import { metadata, syncdiff, type common } from '@filesync/contracts';
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
import type { CommitOutcome, DiffOptions, DiffOutcome, SyncRemote } from './remote';

const H = 'a'.repeat(64);

function entry(path: string, version = 1): common.FileEntry {
  return {
    namespaceId: 'ns',
    path,
    version,
    content: { contentHash: H, size: 1, blockHashes: [] },
    deleted: false,
    modifiedAtMs: 0,
    committedAtMs: 0,
    deviceId: 'd',
    journalSeq: version,
    movedFrom: '',
    movedTo: '',
  };
}

/** Records what the engine's calls look like on the wire side of the binding. */
class RecordingRemote implements SyncRemote {
  manifest: string[] = [];
  diffOptions: DiffOptions | undefined;
  committed: string[] = [];
  committedMoves: string[] = [];
  constructor(
    private readonly answer: DiffOutcome,
    private readonly commitAnswer: CommitOutcome = { results: [], cursor: 0 },
  ) {}
  async diff(_ns: string, manifest: Iterable<syncdiff.ManifestEntry>, options?: DiffOptions) {
    this.manifest = [...manifest].map((item) => item.path);
    this.diffOptions = options;
    return this.answer;
  }
  async commitFiles(_ns: string, changes: metadata.FileChange[]) {
    this.committed = changes.map((change) => change.path);
    this.committedMoves = changes.map((change) => change.moveFrom);
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

const manifestEntry = (path: string): syncdiff.ManifestEntry => ({
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
        {
          path: 'Photos/a.jpg',
          kind: syncdiff.ActionKind.ACTION_KIND_DOWNLOAD,
          baseVersion: 0,
          serverEntry: entry('Photos/a.jpg'),
        },
        // Never below the root: a wrong server's answer is dropped, not written anywhere.
        {
          path: 'Photos2/b.jpg',
          kind: syncdiff.ActionKind.ACTION_KIND_DOWNLOAD,
          baseVersion: 0,
          serverEntry: entry('Photos2/b.jpg'),
        },
        {
          path: 'Photos/new.jpg',
          kind: syncdiff.ActionKind.ACTION_KIND_UPLOAD,
          baseVersion: 0,
          serverEntry: undefined,
        },
      ],
    });
    const outcome = await new BoundRemote(inner, 'Photos').diff('ns', [manifestEntry('new.jpg')], {
      sinceCursor: 3,
    });
    expect(inner.manifest).toEqual(['Photos/new.jpg']);
    expect(inner.diffOptions).toEqual({ sinceCursor: 3, remoteRoot: 'Photos' });
    expect(outcome.cursor).toBe(5);
    expect(outcome.actions.map((action) => [action.path, action.serverEntry?.path])).toEqual([
      ['a.jpg', 'a.jpg'],
      ['new.jpg', undefined],
    ]);
  });

  it('refuses the answer of a server that ignored the root, before anything is applied', async () => {
    const inner = new RecordingRemote({
      ...summary,
      remoteRoot: '',
      actions: [
        {
          path: 'Photos/a.jpg',
          kind: syncdiff.ActionKind.ACTION_KIND_DELETE_LOCAL,
          baseVersion: 0,
          serverEntry: entry('Photos/a.jpg'),
        },
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
    const { RejectionReason } = metadata;
    const inner = new RecordingRemote(
      { ...summary, actions: [] },
      {
        cursor: 9,
        results: [
          { path: 'Photos/a.jpg', outcome: { $case: 'committed', value: entry('Photos/a.jpg', 2) } },
          { path: 'Photos/b.jpg', outcome: { $case: 'conflict', value: entry('Photos/b.jpg', 4) } },
          {
            path: 'Photos/c/d.jpg',
            outcome: {
              $case: 'rejected',
              value: {
                reason: RejectionReason.REJECTION_REASON_PATH_CLASH,
                message: 'clash',
                clashingPath: 'Photos/c',
              },
            },
          },
          {
            path: 'Photos/e.jpg',
            outcome: {
              $case: 'rejected',
              value: {
                reason: RejectionReason.REJECTION_REASON_PATH_CLASH,
                message: 'clash',
                clashingPath: 'Photos',
              },
            },
          },
        ],
      },
    );
    const change = (path: string): metadata.FileChange => ({
      path,
      baseVersion: 0,
      content: undefined,
      delete: true,
      modifiedAtMs: 0,
      moveFrom: '',
      moveFromBaseVersion: 0,
    });
    const outcome = await new BoundRemote(inner, 'Photos').commitFiles(
      'ns',
      ['a.jpg', 'b.jpg', 'c/d.jpg', 'e.jpg'].map(change),
    );
    expect(inner.committed).toEqual(['Photos/a.jpg', 'Photos/b.jpg', 'Photos/c/d.jpg', 'Photos/e.jpg']);
    expect(outcome.results.map((result) => result.path)).toEqual(['a.jpg', 'b.jpg', 'c/d.jpg', 'e.jpg']);
    expect(outcome.results[0]?.outcome).toMatchObject({ value: { path: 'a.jpg', version: 2 } });
    expect(outcome.results[1]?.outcome).toMatchObject({ value: { path: 'b.jpg', version: 4 } });
    expect(outcome.results[2]?.outcome).toMatchObject({
      value: { reason: RejectionReason.REJECTION_REASON_PATH_CLASH, clashingPath: 'c' },
    });
    // The folder's own place is a file: no local clash to settle, a reason for the person.
    expect(outcome.results[3]?.outcome).toMatchObject({
      value: {
        reason: RejectionReason.REJECTION_REASON_UNSPECIFIED,
        clashingPath: '',
        message: expect.stringContaining('/Photos is a file'),
      },
    });
  });

  it('maps both ends of a move, and a move across the root is no move for the folder', async () => {
    const moved = (path: string, movedFrom: string): common.FileEntry => ({ ...entry(path, 2), movedFrom });
    const gone = (path: string, movedTo: string): common.FileEntry => ({
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
        ].map(([path, serverEntry]) => ({
          path: path as string,
          kind: syncdiff.ActionKind.ACTION_KIND_MOVE_LOCAL,
          baseVersion: 1,
          serverEntry: serverEntry as common.FileEntry,
        })),
      },
      { cursor: 9, results: [] },
    );
    const remote = new BoundRemote(inner, 'Photos');
    const outcome = await remote.diff('ns', []);
    expect(
      outcome.actions.map((action) => [
        action.path,
        action.serverEntry?.movedFrom,
        action.serverEntry?.movedTo,
      ]),
    ).toEqual([
      ['b.jpg', 'a.jpg', ''],
      ['in.jpg', '', ''],
      ['out.jpg', '', ''],
    ]);
    await remote.commitFiles('ns', [
      {
        path: 'new/name.jpg',
        baseVersion: 0,
        content: undefined,
        delete: false,
        modifiedAtMs: 0,
        moveFrom: 'old/name.jpg',
        moveFromBaseVersion: 3,
      },
    ]);
    expect(inner.committed).toEqual(['Photos/new/name.jpg']);
    expect(inner.committedMoves).toEqual(['Photos/old/name.jpg']);
  });
});
