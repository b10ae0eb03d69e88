// Unit tests: request validation is pure (no ports).
import type { metadata } from '@filesync/contracts';
import type { Principal } from '@filesync/server-kit';
import { contentHash } from '@filesync/sync-core';
import {
  checkBlockHashes,
  checkChange,
  checkChanges,
  checkDelete,
  checkFollowPath,
  checkJournalQuery,
  checkNamespace,
} from './validation';
import { domainErrorThrownBy } from '@filesync/server-kit/testing';

const hash = (n: number) => n.toString(16).padStart(64, '0');

function change(overrides: Partial<metadata.FileChange> = {}): metadata.FileChange {
  const blockHashes = [hash(1), hash(2)];
  return {
    path: 'docs/a.txt',
    baseVersion: 0,
    delete: false,
    moveFrom: '',
    moveFromBaseVersion: 0,
    modifiedAtMs: 1,
    content: { contentHash: contentHash(blockHashes), size: 20, blockHashes },
    ...overrides,
  };
}

describe('checkNamespace', () => {
  const principal: Principal = { userId: 'u', deviceId: 'd', email: 'e@x', namespaceIds: ['mine'] };
  it('allows a granted namespace and denies any other', () => {
    expect(checkNamespace(principal, 'mine')).toBe('mine');
    expect(domainErrorThrownBy(() => checkNamespace(principal, 'theirs')).kind).toBe('permission-denied');
    expect(domainErrorThrownBy(() => checkNamespace(principal, '')).kind).toBe('invalid-argument');
  });
});

describe('checkChange', () => {
  it('returns a canonical change', () => {
    expect(checkChange(change({ path: 'cafe\u0301.txt' }))).toMatchObject({
      path: 'caf\u00e9.txt',
      baseVersion: 0,
      content: { size: 20 },
    });
  });

  it.each([
    ['a parent segment', '../etc/passwd'],
    ['an inner parent segment', 'docs/../x'],
    ['an absolute path', '/etc/passwd'],
    ['a NUL', 'a\u0000b'],
    ['an empty path', ''],
    ['a trailing slash', 'docs/'],
  ])('refuses %s', (_name, path) => {
    const error = domainErrorThrownBy(() => checkChange(change({ path })));
    expect(error.kind).toBe('invalid-argument');
    expect(error.message).toMatch(/^change\.path /);
  });

  it('refuses a malformed block hash', () => {
    const blockHashes = [hash(1), 'ABC'];
    const error = domainErrorThrownBy(() =>
      checkChange(change({ content: { contentHash: contentHash([hash(1)]), size: 2, blockHashes } })),
    );
    expect(error.message).toContain('block_hashes[1]');
  });

  it('refuses an uppercase block hash', () => {
    const blockHashes = [hash(10).toUpperCase()];
    expect(
      domainErrorThrownBy(() => checkChange(change({ content: { contentHash: 'x', size: 2, blockHashes } })))
        .kind,
    ).toBe('invalid-argument');
  });

  it('refuses a content hash that does not match the blocks', () => {
    const content = {
      contentHash: contentHash([hash(2), hash(1)]),
      size: 20,
      blockHashes: [hash(1), hash(2)],
    };
    expect(domainErrorThrownBy(() => checkChange(change({ content }))).message).toContain(
      'content_hash does not match',
    );
  });

  it('refuses negative or fractional numbers and inconsistent empty files', () => {
    expect(domainErrorThrownBy(() => checkChange(change({ baseVersion: -1 }))).message).toContain(
      'base_version',
    );
    const content = change().content!;
    expect(
      domainErrorThrownBy(() => checkChange(change({ content: { ...content, size: -5 } }))).message,
    ).toContain('size');
    expect(
      domainErrorThrownBy(() => checkChange(change({ content: { ...content, size: 1.5 } }))).message,
    ).toContain('size');
    expect(
      domainErrorThrownBy(() => checkChange(change({ content: { ...content, size: 0 } }))).message,
    ).toContain('empty file');
  });

  it('kind 6: times before 1970 and zero are valid and kept exactly; only impossible times are refused', () => {
    for (const modifiedAtMs of [-1, 0, -86_400_000 * 365 * 100 - 7, -8.64e15, 8.64e15]) {
      expect(checkChange(change({ modifiedAtMs })).modifiedAtMs).toBe(modifiedAtMs);
      expect(checkChange(change({ modifiedAtMs, delete: true })).modifiedAtMs).toBe(modifiedAtMs);
    }
    for (const modifiedAtMs of [8.64e15 + 1, -8.64e15 - 1, 1.5, Number.NaN]) {
      expect(domainErrorThrownBy(() => checkChange(change({ modifiedAtMs }))).message).toContain(
        'modified_at_ms',
      );
    }
    const [old] = checkChanges([change({ modifiedAtMs: -1_000 })]);
    expect(old).toMatchObject({ ok: true, change: { modifiedAtMs: -1_000 } });
  });

  it('accepts an empty file as no blocks and the hash of nothing', () => {
    const content = { contentHash: contentHash([]), size: 0, blockHashes: [] };
    expect(checkChange(change({ content })).content).toEqual(content);
  });

  it('requires content unless the change deletes, and ignores content of a delete', () => {
    expect(domainErrorThrownBy(() => checkChange(change({ content: undefined }))).message).toContain(
      'content is required',
    );
    expect(checkChange(change({ delete: true, content: undefined })).content).toBeUndefined();
    expect(domainErrorThrownBy(() => checkChange(undefined)).kind).toBe('invalid-argument');
  });
});

describe('checkChanges', () => {
  it('refuses empty, oversized and duplicate batches', () => {
    expect(domainErrorThrownBy(() => checkChanges([])).kind).toBe('invalid-argument');
    expect(
      domainErrorThrownBy(() =>
        checkChanges(Array.from({ length: 501 }, (_, i) => change({ path: `f${i}` }))),
      ).message,
    ).toContain('at most 500');
    // Duplicates are found after canonicalisation: NFD and NFC spell the same path.
    expect(
      domainErrorThrownBy(() => checkChanges([change({ path: 'caf\u00e9' }), change({ path: 'cafe\u0301' })]))
        .message,
    ).toContain('more than once');
  });

  it('kind 7: two spellings of one path are INVALID_ARGUMENT even when one change is invalid', () => {
    const badSize = { content: { ...change().content!, size: -1 } };
    for (const changes of [
      [change({ path: 'caf\u00e9' }), change({ path: 'cafe\u0301', ...badSize })],
      [change({ path: 'caf\u00e9', ...badSize }), change({ path: 'cafe\u0301' })],
      [change({ path: 'caf\u00e9', ...badSize }), change({ path: 'cafe\u0301', ...badSize })],
    ]) {
      const error = domainErrorThrownBy(() => checkChanges(changes));
      expect(error.kind).toBe('invalid-argument');
      expect(error.message).toContain('more than once');
    }
    // Two invalid paths spelled alike are one path too; different invalid paths are not.
    expect(
      domainErrorThrownBy(() => checkChanges([change({ path: '../x' }), change({ path: '../x' })])).message,
    ).toContain('more than once');
    expect(checkChanges([change({ path: '../x' }), change({ path: '../y' })])).toHaveLength(2);
  });

  it('kind 7: one bad change is rejected for its path alone, named by index', () => {
    const [good, badPath, badHash, badSize] = checkChanges([
      change(),
      change({ path: '../x' }),
      change({ path: 'h', content: { contentHash: 'x', size: 1, blockHashes: ['nothex'] } }),
      change({ path: 's', content: { ...change().content!, size: -1 } }),
    ]);
    expect(good).toMatchObject({ ok: true, change: { path: 'docs/a.txt' } });
    expect(badPath).toEqual({
      ok: false,
      rejection: {
        kind: 'rejected',
        path: '../x',
        reason: 'invalid-path',
        message: expect.stringMatching(/^changes\[1\]\.path/),
      },
    });
    expect(badHash).toMatchObject({ ok: false, rejection: { path: 'h', reason: 'invalid-change' } });
    expect(badSize).toMatchObject({ ok: false, rejection: { path: 's', reason: 'invalid-change' } });
  });
});

describe('other requests', () => {
  it('checks delete paths and follow paths ("" is the whole namespace)', () => {
    expect(checkDelete('a', 3, 9)).toEqual({
      path: 'a',
      baseVersion: 3,
      modifiedAtMs: 9,
      content: undefined,
    });
    expect(domainErrorThrownBy(() => checkDelete('/a', 3, 9)).kind).toBe('invalid-argument');
    expect(checkFollowPath('')).toBe('');
    expect(domainErrorThrownBy(() => checkFollowPath('a//b')).kind).toBe('invalid-argument');
  });

  it('checks block hash queries', () => {
    expect(checkBlockHashes([hash(1)])).toEqual([hash(1)]);
    expect(domainErrorThrownBy(() => checkBlockHashes(['nothex'])).kind).toBe('invalid-argument');
    expect(
      domainErrorThrownBy(() => checkBlockHashes(Array.from({ length: 10_001 }, () => hash(1)))).kind,
    ).toBe('invalid-argument');
  });

  it('checks journal limits', () => {
    expect(checkJournalQuery(5, 0)).toEqual({ afterSeq: 5, limit: 100 });
    expect(checkJournalQuery(0, 1000)).toEqual({ afterSeq: 0, limit: 1000 });
    expect(domainErrorThrownBy(() => checkJournalQuery(0, 1001)).kind).toBe('invalid-argument');
    expect(domainErrorThrownBy(() => checkJournalQuery(-1, 1)).kind).toBe('invalid-argument');
  });
});
