import { domainErrorRejectedBy, domainErrorThrownBy } from '@filesync/server-kit/testing';
import { ManifestReader, validateEntry, type ManifestEntryInput } from './manifest';

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

async function readAll(...entries: ManifestEntryInput[]): Promise<string[]> {
  async function* source() {
    yield* entries;
  }
  const reader = new ManifestReader(source());
  const paths: string[] = [];
  for (let entry = await reader.next(); entry; entry = await reader.next()) paths.push(entry.path);
  expect(reader.received).toBe(paths.length);
  return paths;
}

describe('kind 13: the manifest is read in path order, one entry at a time', () => {
  it('reads entries sorted by code point, characters above U+FFFF after U+E000-U+FFFF', async () => {
    const paths = ['a', 'a/b', 'b', 'x\uFF5E', 'x\u{1F600}'];
    expect(await readAll(...paths.map((path) => entry({ path })))).toEqual(paths);
  });

  it('rejects a path sent twice, also when only its Unicode form differs', async () => {
    const error = await domainErrorRejectedBy(
      readAll(entry({ path: 'caf\u00e9' }), entry({ path: 'cafe\u0301' })),
    );
    expect(error.kind).toBe('invalid-argument');
    expect(error.message).toContain('twice');
  });

  it.each([
    ['a later path first', ['b', 'a']],
    ['UTF-16 order instead of code point order', ['x\u{1F600}', 'x\uFF5E']],
  ])('rejects an entry out of order (%s)', async (_name, paths) => {
    const error = await domainErrorRejectedBy(readAll(...paths.map((path) => entry({ path }))));
    expect(error.kind).toBe('invalid-argument');
    expect(error.message).toContain('sorted by path');
  });
});
