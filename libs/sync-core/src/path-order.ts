/**
 * The one order of paths that the client's manifest, the diff and the server listing share:
 * Unicode code point order, which is the byte order of the paths' UTF-8 encoding and so the
 * order DynamoDB sorts string keys in (metadata lists files in it).
 *
 * JavaScript's `<` compares UTF-16 code units instead, which disagrees for characters above
 * U+FFFF (stored as surrogates, 0xD800-0xDFFF) against those from U+E000 to U+FFFF: `<` puts
 * '\u{1F600}' before '\uFF5E', UTF-8 puts it after. Sorting with this comparator is required
 * wherever two sides walk sorted paths side by side.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/**
 * A code unit's rank in code point order at the first unit where two strings differ: surrogates
 * (the start of a character above U+FFFF) move above U+E000-U+FFFF, which move down to make room.
 */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
