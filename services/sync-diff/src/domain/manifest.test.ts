import { Manifest, validateEntry, type ManifestEntryInput } from './manifest';
import { domainErrorThrownBy } from '@filesync/server-kit/testing';

const A = 'a'.repeat(64);

function entry(overrides: Partial<ManifestEntryInput> = {}): ManifestEntryInput {
  return {
    path: 'a.txt',
    contentHash: A,
    size: 1,
    baseVersion: 0,
    baseContentHash: '',
    deleted: false,
    ...overrides,
  };
}

describe('validateEntry', () => {
  it('returns the canonical (NFC) path', () => {
    expect(validateEntry(entry({ path: 'cafe\u0301.txt' })).path).toBe('caf\u00e9.txt');
  });

  it.each([
    ['an empty path', ''],
    ['a dot-dot segment', 'a/../b'],
    ['an absolute path', '/etc/passwd'],
    ['a NUL', 'a\u0000b'],
    ['a trailing slash', 'a/'],
  ])('rejects %s', (_name, path) => {
    const error = domainErrorThrownBy(() => validateEntry(entry({ path })));
    expect(error.kind).toBe('invalid-argument');
    expect(error.message).toContain('manifest entry');
  });

  it.each([
    ['an uppercase content hash', { contentHash: A.toUpperCase() }],
    ['a short content hash', { contentHash: 'abc' }],
    ['a bad base content hash', { baseContentHash: 'zz' }],
    ['a negative size', { size: -1 }],
    ['a fractional size', { size: 1.5 }],
    ['a negative base version', { baseVersion: -2 }],
  ])('rejects %s', (_name, overrides) => {
    expect(domainErrorThrownBy(() => validateEntry(entry(overrides))).kind).toBe('invalid-argument');
  });

  it('accepts empty hashes for a deleted file', () => {
    expect(
      validateEntry(entry({ contentHash: '', deleted: true, baseVersion: 3, baseContentHash: A })).deleted,
    ).toBe(true);
  });
});

describe('Manifest', () => {
  it('rejects a path sent twice, also when only its Unicode form differs', () => {
    const manifest = new Manifest();
    manifest.add(entry({ path: 'caf\u00e9' }));
    const error = domainErrorThrownBy(() => manifest.add(entry({ path: 'cafe\u0301' })));
    expect(error.kind).toBe('invalid-argument');
    expect(error.message).toContain('twice');
  });

  it('hands out each entry once and keeps the rest', () => {
    const manifest = new Manifest();
    manifest.add(entry({ path: 'a' }));
    manifest.add(entry({ path: 'b' }));
    expect(manifest.take('a')?.path).toBe('a');
    expect(manifest.take('a')).toBeUndefined();
    expect([...manifest.remaining()].map((e) => e.path)).toEqual(['b']);
  });
});
