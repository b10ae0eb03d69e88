import { common, metadata, syncdiff } from '@filesync/contracts';
import type { FileChange } from '../sync/model';
import {
  changeOutcomeOf,
  diffActionOf,
  fileChangeToProto,
  manifestEntryToProto,
  serverEntryOf,
} from './sync-mapping';

const { ActionKind } = syncdiff;
const { RejectionReason } = metadata;

function wireEntry(overrides: Partial<common.FileEntry> = {}): common.FileEntry {
  return {
    namespaceId: 'ns',
    path: 'docs/a.txt',
    version: 3,
    content: { contentHash: 'c'.repeat(64), size: 12, blockHashes: ['b'.repeat(64)] },
    deleted: false,
    modifiedAtMs: 1_700_000_000_123,
    committedAtMs: 1_700_000_000_456,
    deviceId: 'laptop',
    journalSeq: 41,
    movedFrom: 'old/a.txt',
    movedTo: '',
    ...overrides,
  };
}

describe('server entries', () => {
  test('carry what the engine uses; the content is flattened', () => {
    expect(serverEntryOf(wireEntry())).toEqual({
      path: 'docs/a.txt',
      version: 3,
      deleted: false,
      contentHash: 'c'.repeat(64),
      size: 12,
      blockHashes: ['b'.repeat(64)],
      modifiedAtMs: 1_700_000_000_123,
      journalSeq: 41,
      movedFrom: 'old/a.txt',
      movedTo: '',
    });
  });

  test('a tombstone has no content', () => {
    const entry = serverEntryOf(
      wireEntry({ deleted: true, content: undefined, movedFrom: '', movedTo: 'b' }),
    );
    expect(entry).toMatchObject({ deleted: true, contentHash: '', size: 0, blockHashes: [], movedTo: 'b' });
  });
});

describe('diff actions', () => {
  const kinds: [syncdiff.ActionKind, string][] = [
    [ActionKind.ACTION_KIND_UPLOAD, 'upload'],
    [ActionKind.ACTION_KIND_DOWNLOAD, 'download'],
    [ActionKind.ACTION_KIND_DELETE_LOCAL, 'delete-local'],
    [ActionKind.ACTION_KIND_DELETE_REMOTE, 'delete-remote'],
    [ActionKind.ACTION_KIND_CONFLICT, 'conflict'],
    [ActionKind.ACTION_KIND_RECORD, 'record'],
    [ActionKind.ACTION_KIND_MOVE_LOCAL, 'move-local'],
  ];

  test.each(kinds)('wire kind %s is %s', (wire, kind) => {
    const mapped = diffActionOf({ path: 'docs/a.txt', kind: wire, baseVersion: 2, serverEntry: wireEntry() });
    expect(mapped).toEqual({
      action: { path: 'docs/a.txt', kind, baseVersion: 2, server: serverEntryOf(wireEntry()) },
    });
  });

  test('an action without a server entry has none', () => {
    const mapped = diffActionOf({
      path: 'new.txt',
      kind: ActionKind.ACTION_KIND_UPLOAD,
      baseVersion: 0,
      serverEntry: undefined,
    });
    expect(mapped).toEqual({
      action: { path: 'new.txt', kind: 'upload', baseVersion: 0, server: undefined },
    });
  });

  test('a kind this client does not know is never an action, least of all a deletion', () => {
    // What a newer server's kind decodes to: the bare number.
    const newer = 99 as syncdiff.ActionKind;
    const tombstone = wireEntry({ deleted: true, content: undefined });
    expect(diffActionOf({ path: 'a.txt', kind: newer, baseVersion: 0, serverEntry: tombstone })).toEqual({
      unrecognized: { path: 'a.txt', kind: '99' },
    });
    for (const kind of [ActionKind.ACTION_KIND_UNSPECIFIED, ActionKind.UNRECOGNIZED]) {
      expect(diffActionOf({ path: 'a.txt', kind, baseVersion: 0, serverEntry: tombstone })).toEqual({
        unrecognized: { path: 'a.txt', kind: ActionKind[kind] },
      });
    }
  });
});

describe('the manifest', () => {
  test('entries go as they are', () => {
    const entry = {
      path: 'a.txt',
      contentHash: 'c'.repeat(64),
      size: 5,
      baseVersion: 2,
      baseContentHash: 'd'.repeat(64),
      deleted: false,
    };
    expect(manifestEntryToProto(entry)).toEqual(entry);
  });
});

describe('file changes', () => {
  const content = { contentHash: 'c'.repeat(64), size: 12, blockHashes: ['b'.repeat(64)] };

  test('new content', () => {
    const change: FileChange = { path: 'a.txt', baseVersion: 2, content, modifiedAtMs: 1_700_000_000_999 };
    expect(fileChangeToProto(change)).toEqual({
      path: 'a.txt',
      baseVersion: 2,
      content,
      delete: false,
      modifiedAtMs: 1_700_000_000_999,
      moveFrom: '',
      moveFromBaseVersion: 0,
    });
  });

  test('a deletion has no content', () => {
    const change: FileChange = { path: 'a.txt', baseVersion: 4, content: undefined, modifiedAtMs: 5 };
    expect(fileChangeToProto(change)).toEqual({
      path: 'a.txt',
      baseVersion: 4,
      content: undefined,
      delete: true,
      modifiedAtMs: 5,
      moveFrom: '',
      moveFromBaseVersion: 0,
    });
  });

  test('a move names its source and the version moved', () => {
    const change: FileChange = {
      path: 'b.txt',
      baseVersion: 0,
      content,
      modifiedAtMs: 7,
      moveFrom: { path: 'a.txt', baseVersion: 3 },
    };
    expect(fileChangeToProto(change)).toMatchObject({
      delete: false,
      moveFrom: 'a.txt',
      moveFromBaseVersion: 3,
    });
  });
});

describe('commit results', () => {
  test('committed, conflict and missing blocks', () => {
    expect(changeOutcomeOf({ path: 'a', outcome: { $case: 'committed', value: wireEntry() } })).toEqual({
      kind: 'committed',
      path: 'a',
      entry: serverEntryOf(wireEntry()),
    });
    const absent = wireEntry({ version: 0, deleted: true, content: undefined });
    expect(changeOutcomeOf({ path: 'a', outcome: { $case: 'conflict', value: absent } })).toEqual({
      kind: 'conflict',
      path: 'a',
      current: serverEntryOf(absent),
    });
    expect(
      changeOutcomeOf({ path: 'a', outcome: { $case: 'missingBlocks', value: { blockHashes: ['h'] } } }),
    ).toEqual({ kind: 'missing-blocks', path: 'a', blockHashes: ['h'] });
  });

  const rejected = (reason: metadata.RejectionReason, message = 'why', clashingPath = '') =>
    changeOutcomeOf({ path: 'a', outcome: { $case: 'rejected', value: { reason, message, clashingPath } } });

  test.each([
    [RejectionReason.REJECTION_REASON_INVALID_PATH, 'invalid-path'],
    [RejectionReason.REJECTION_REASON_INVALID_CHANGE, 'invalid-change'],
    [RejectionReason.REJECTION_REASON_PATH_CLASH, 'path-clash'],
    [RejectionReason.REJECTION_REASON_MASS_DELETE, 'mass-delete'],
    [RejectionReason.REJECTION_REASON_UNSPECIFIED, 'other'],
    [RejectionReason.UNRECOGNIZED, 'other'],
    [42 as metadata.RejectionReason, 'other'],
  ])('rejection reason %s is %s', (reason, expected) => {
    expect(rejected(reason, 'why', 'x')).toEqual({
      kind: 'rejected',
      path: 'a',
      reason: expected,
      message: 'why',
      clashingPath: 'x',
    });
  });

  test('a rejection without a message says which reason the server gave', () => {
    expect(rejected(RejectionReason.REJECTION_REASON_INVALID_CHANGE, '')).toMatchObject({
      message: 'REJECTION_REASON_INVALID_CHANGE',
    });
    expect(rejected(42 as metadata.RejectionReason, '')).toMatchObject({ reason: 'other', message: '' });
  });

  test('a path clash that names no clashing path is no clash to settle', () => {
    expect(rejected(RejectionReason.REJECTION_REASON_PATH_CLASH, 'clash', '')).toMatchObject({
      reason: 'other',
      message: 'clash',
      clashingPath: '',
    });
  });

  test('a result without an outcome (a newer server) is a refusal the engine cannot settle', () => {
    expect(changeOutcomeOf({ path: 'a', outcome: undefined })).toEqual({
      kind: 'rejected',
      path: 'a',
      reason: 'other',
      message: 'the server gave no outcome for this change',
      clashingPath: '',
    });
  });
});
