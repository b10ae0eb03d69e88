import { canonicalPath, InvalidPathError, isAtOrBelow } from './paths';

describe('canonicalPath', () => {
  it.each([
    ['', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['a/../b', "'..'"],
    ['./a', "'.'"],
    ['a//b', 'empty segment'],
    ['a/', 'empty segment'],
    ['a\u0000b', 'NUL'],
    ['a\\b', 'backslash'],
    ['a\nb', 'control character'],
    ['x'.repeat(5000), 'longer than'],
  ])('refuses %j (%s)', (path, reason) => {
    expect(() => canonicalPath(path)).toThrow(InvalidPathError);
    expect(() => canonicalPath(path)).toThrow(reason);
  });

  it('accepts nested non-ASCII paths and normalises them to NFC', () => {
    expect(canonicalPath('docs/re\u0301sume\u0301.txt')).toBe('docs/r\u00e9sum\u00e9.txt');
    expect(canonicalPath('日本/ファイル.md')).toBe('日本/ファイル.md');
  });
});

describe('kind 5: a colon is an ordinary character, not a drive letter', () => {
  it.each(['c:notes.txt', 'x:backup/a.txt', 'C:/x', 'docs/d:e.txt'])(
    'accepts %j as a relative path',
    (path) => {
      expect(canonicalPath(path)).toBe(path);
    },
  );
});

describe('isAtOrBelow', () => {
  it('matches the folder itself and paths below it, not siblings sharing a prefix', () => {
    expect(isAtOrBelow('docs', 'docs')).toBe(true);
    expect(isAtOrBelow('docs/a.txt', 'docs')).toBe(true);
    expect(isAtOrBelow('docs2/a.txt', 'docs')).toBe(false);
    expect(isAtOrBelow('anything', '')).toBe(true);
  });
});
