// Unit tests of the key codec and the listing order (issue 6, kind 9): pure functions.
import {
  MAX_SORT_KEY_BYTES,
  ORDER_PREFIX_BYTES,
  fileKey,
  followKey,
  fileBelowPrefix,
  folderKey,
  utf8Prefix,
  versionKey,
  versionPrefix,
} from './keys';
import { comparePaths } from '@filesync/sync-core';
import { inPathOrder } from './path-order';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const pathOf = (length: number, fill = 'a', head = '') =>
  head + fill.repeat(Math.max(0, length - bytes(head)));

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const result: T[][] = [];
  for await (const page of pages) result.push(page);
  return result;
}

describe('kind 9: paths up to 4,096 bytes have keys DynamoDB accepts', () => {
  const longPaths = [1_010, 2_000, 4_096].map((length) => pathOf(length, 'é'.normalize('NFC').slice(0, 1)));

  it('keeps a short path as it is, so keys written before stay valid', () => {
    expect(fileKey('a/b.txt')).toBe('FILE#a/b.txt');
    expect(versionKey('a#b', 3)).toBe('VER#a#b#000000000003');
    expect(followKey('docs', 'u1')).toBe('FOLLOW#docs#u1');
    expect(folderKey('a')).toBe('FOLDER#a');
    // The longest path that worked before keeps its key byte for byte.
    const old = pathOf(1_007);
    expect(versionKey(old, 1)).toBe(`VER#${old}#000000000001`);
  });

  it.each([1_010, 2_000, 4_096])(
    'gives a %i-byte path keys within 1,024 bytes, distinct per path',
    (length) => {
      for (const fill of ['a', 'é', '😀', '中']) {
        const path = pathOf(length, fill).slice(0, length);
        const other = `${path.slice(0, -1)}z`;
        const keys = [
          fileKey(path),
          versionKey(path, 999_999),
          folderKey(path),
          followKey(path, 'u'.repeat(64)),
        ];
        for (const key of keys) expect(bytes(key)).toBeLessThanOrEqual(MAX_SORT_KEY_BYTES);
        expect(fileKey(path)).not.toBe(fileKey(other));
        expect(versionKey(path, 1).startsWith(versionPrefix(path))).toBe(true);
        // Valid UTF-8: the cut never splits a character.
        expect(Buffer.from(fileKey(path), 'utf8').toString('utf8')).toBe(fileKey(path));
      }
      expect(longPaths).toHaveLength(3);
    },
  );

  it('cuts UTF-8 on a character boundary', () => {
    expect(utf8Prefix('aé', 2)).toBe('a');
    expect(utf8Prefix('a😀b', 4)).toBe('a');
    expect(utf8Prefix('a😀b', 5)).toBe('a😀');
    expect(utf8Prefix('abc', 10)).toBe('abc');
  });

  it('every file key of a path below a folder starts with the prefix the tree check queries by', () => {
    for (const folder of ['docs', pathOf(600), pathOf(1_500, 'é')]) {
      for (const child of [`${folder}/x`, `${folder}/${pathOf(3_000 - bytes(folder))}`]) {
        expect(fileKey(child).startsWith(fileBelowPrefix(folder))).toBe(true);
      }
    }
  });
});

describe('kind 9: ListFiles keeps ascending path order (UTF-8 bytes) with long paths', () => {
  it('orders by UTF-8 bytes, as DynamoDB orders keys', () => {
    expect(['b', 'a/c', 'a', '\uffff', '😀'].sort(comparePaths)).toEqual(['a', 'a/c', 'b', '\uffff', '😀']);
  });

  it('restores exact order among long paths sharing a 1,000-byte prefix, short ones around them', async () => {
    const shared = pathOf(1_000, 'p');
    const paths = [
      pathOf(5, 'a'),
      `${shared.slice(0, ORDER_PREFIX_BYTES)}`,
      `${shared}/`,
      `${shared}/a`,
      `${shared}/${pathOf(1_000, 'b')}`,
      `${shared}/${pathOf(3_000, 'c')}`,
      `${shared}/${pathOf(1_000, 'c')}`,
      `${shared}/c`,
      `${shared}0`,
      pathOf(4_096, 'p'),
      `${shared}/${pathOf(2_000, 'é')}`,
      'q',
      'r/s',
    ].filter((path) => bytes(path) <= 4_096);
    // Items come in key order; split them across pages of 2 to cross page boundaries.
    const inKeyOrder = [...paths].sort((a, b) => comparePaths(fileKey(a), fileKey(b)));
    async function* pages() {
      for (let index = 0; index < inKeyOrder.length; index += 2) yield inKeyOrder.slice(index, index + 2);
    }
    const ordered = (await collect(inPathOrder(pages(), (path) => path))).flat();
    expect(ordered).toEqual([...paths].sort(comparePaths));
    // The digests really do scramble the key order, so the test proves the reader's work.
    expect(inKeyOrder).not.toEqual([...paths].sort(comparePaths));
  });
});
