import { isMassDelete, pairMoves, type MoveSide } from './mass-delete';

/** Sides at paths of their own, named by position: d0, d1... and a0, a1... */
const sides = (prefix: string, hashes: readonly string[]): MoveSide[] =>
  hashes.map((contentHash, index) => ({ path: `${prefix}${index}`, contentHash }));
const countNonMoveDeletions = (deleted: readonly string[], arrived: readonly string[]) =>
  pairMoves(sides('d', deleted), sides('a', arrived)).filter((partner) => partner === undefined).length;

describe('kind 2: the mass-delete rule', () => {
  it('needs confirmation to delete every live file, however few', () => {
    expect(isMassDelete({ deleting: 1, live: 1 })).toBe(true);
    expect(isMassDelete({ deleting: 3, live: 3 })).toBe(true);
    expect(isMassDelete({ deleting: 3, live: 2 })).toBe(true);
  });

  it('needs confirmation for more than half when that is more than 10 files', () => {
    expect(isMassDelete({ deleting: 11, live: 21 })).toBe(true);
    expect(isMassDelete({ deleting: 10, live: 12 })).toBe(false);
    expect(isMassDelete({ deleting: 11, live: 22 })).toBe(false);
    expect(isMassDelete({ deleting: 500, live: 100_000 })).toBe(false);
  });

  it('honours a user cap', () => {
    expect(isMassDelete({ deleting: 3, live: 1000, maxDelete: 2 })).toBe(true);
    expect(isMassDelete({ deleting: 2, live: 1000, maxDelete: 2 })).toBe(false);
  });

  it('never asks when nothing is deleted', () => {
    expect(isMassDelete({ deleting: 0, live: 0 })).toBe(false);
  });
});

describe('kind 2: a move is not a deletion', () => {
  it('pairs each deletion with a creation of the same content, each creation at most once', () => {
    expect(pairMoves(sides('d', ['a', 'b', 'a']), sides('a', ['c', 'a', 'b']))).toEqual([1, 2, undefined]);
    expect(pairMoves(sides('d', ['a', 'a']), sides('a', ['a', 'a']))).toEqual([0, 1]);
    expect(pairMoves(sides('d', ['a']), sides('a', []))).toEqual([undefined]);
    expect(pairMoves(sides('d', ['']), sides('a', ['']))).toEqual([undefined]);
  });

  it('counts only the deletions that are not moves', () => {
    // Renaming the only file: nothing is deleted.
    expect(countNonMoveDeletions(['h'], ['h'])).toBe(0);
    // Three files moved into a subfolder, one deleted outright.
    expect(countNonMoveDeletions(['a', 'b', 'c', 'd'], ['c', 'b', 'a'])).toBe(1);
    // One copy cannot excuse two deletions of the same content.
    expect(countNonMoveDeletions(['a', 'a'], ['a'])).toBe(1);
    expect(countNonMoveDeletions(['a', 'b'], ['x'])).toBe(2);
  });

  it('never pairs a deletion with an arrival at its own path', () => {
    expect(pairMoves([{ path: 'p', contentHash: 'h' }], [{ path: 'p', contentHash: 'h' }])).toEqual([
      undefined,
    ]);
  });
});
