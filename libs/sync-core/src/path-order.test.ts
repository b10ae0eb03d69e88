import { comparePaths } from './path-order';

const utf8Order = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('kind 13: one path order for the manifest, the diff and the server listing', () => {
  it('orders a character above U+FFFF after U+E000-U+FFFF, as UTF-8 (and DynamoDB) does', () => {
    const emoji = 'docs/\u{1F600}.txt';
    const fullwidth = 'docs/\uFF5E.txt';
    // The order JavaScript's `<` gives, which the manifest used and the listing does not.
    expect(emoji < fullwidth).toBe(true);
    expect(Math.sign(comparePaths(emoji, fullwidth))).toBe(1);
    expect([emoji, fullwidth, 'docs/\uE000', 'docs/z'].sort(comparePaths)).toEqual([
      'docs/z',
      'docs/\uE000',
      fullwidth,
      emoji,
    ]);
  });

  it('agrees with the byte order of UTF-8 on every pair of a varied sample', () => {
    const sample = [
      '',
      'a',
      'a/b',
      'a b',
      'a.txt',
      'ab',
      'A',
      'é',
      'e\u0301',
      '\u07ff',
      '\u0800',
      '\ud7ff',
      '\ue000',
      '\uffff',
      '\u{10000}',
      '\u{1F600}',
      '\u{10FFFF}',
      'x\u{1F600}y',
      'x\uFF5Ey',
      'x\uFF5E',
      'x\u{1F600}',
    ];
    for (const a of sample) {
      for (const b of sample) expect([a, b, Math.sign(comparePaths(a, b))]).toEqual([a, b, utf8Order(a, b)]);
    }
  });
});
