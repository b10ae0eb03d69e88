import { commitBatches, commitWindows, pairLocalMoves, type CommitUnitOf } from './commit-order';

const upload = (path: string, size: number, contentHash = `h-${path}`): CommitUnitOf => ({
  kind: 'upload',
  path,
  size,
  contentHash,
});
const remove = (path: string, contentHash: string): CommitUnitOf => ({
  kind: 'delete',
  path,
  size: 0,
  contentHash,
});
const paths = (batches: CommitUnitOf[][]) => batches.map((batch) => batch.map((change) => change.path));

describe('commit batches (kind 2: a move is not a mass delete)', () => {
  it('sends smallest first, in batches of the given size', () => {
    const changes = [upload('big', 900), upload('a', 1), upload('b', 2), remove('gone', 'h-x')];
    expect(paths(commitBatches(changes, (c) => c, 2))).toEqual([
      ['gone', 'a'],
      ['b', 'big'],
    ]);
  });

  it('keeps a deletion beside the upload of its content at another path, never split across batches', () => {
    const changes = [
      upload('x1', 1),
      upload('x2', 2),
      upload('docs2/report.pdf', 500, 'h-report'),
      upload('x3', 3),
      remove('docs/report.pdf', 'h-report'),
    ];
    expect(paths(commitBatches(changes, (c) => c, 4))).toEqual([
      ['x1', 'x2', 'x3'],
      ['docs/report.pdf', 'docs2/report.pdf'],
    ]);
  });

  it('pairs each upload with one deletion at most, and never a path with itself', () => {
    const changes = [
      remove('a', 'same'),
      remove('b', 'same'),
      upload('c', 5, 'same'),
      remove('d', 'h-d'),
      upload('d', 5, 'h-d'),
    ];
    expect(paths(commitBatches(changes, (c) => c, 10))).toEqual([['b', 'd', 'a', 'c', 'd']]);
  });
});

describe('commitWindows (bounded client memory: issue 7)', () => {
  it('cuts commit units into windows of at most the given number of changes, never cutting a unit', () => {
    const units = [['a'], ['b', 'b2'], ['c'], ['d', 'd2'], ['e']];
    expect(commitWindows(units, 3)).toEqual([[['a'], ['b', 'b2']], [['c'], ['d', 'd2']], [['e']]]);
    expect(commitWindows(units, 100)).toEqual([units]);
    expect(commitWindows([], 3)).toEqual([]);
  });

  it('gives a unit larger than a window a window of its own', () => {
    expect(commitWindows([['a'], ['b', 'b2', 'b3'], ['c']], 2)).toEqual([
      [['a']],
      [['b', 'b2', 'b3']],
      [['c']],
    ]);
  });
});

describe('local moves (issue 8, section 4)', () => {
  const side = (contentHash: string, fileId = '') => ({ contentHash, fileId });
  const pairs = (deletions: ReturnType<typeof side>[], arrivals: ReturnType<typeof side>[]) =>
    [...pairLocalMoves(deletions, arrivals)].sort(([a], [b]) => a - b);

  it('pairs by device and inode with the same content, whatever else holds that content', () => {
    expect(pairs([side('h', '1:10'), side('h', '1:11')], [side('h', '1:11'), side('h', '1:10')])).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('does not pair a reused inode that holds other content', () => {
    expect(pairs([side('old', '1:10')], [side('new', '1:10')])).toEqual([]);
  });

  it('pairs by content alone only when one deletion and one arrival hold it', () => {
    // A copy to another file system and a delete: no identity in common.
    expect(pairs([side('h', '1:10')], [side('h', '2:99')])).toEqual([[0, 0]]);
    // Two new files with the content of one gone file: which one moved is unknown, so neither.
    expect(pairs([side('h')], [side('h'), side('h')])).toEqual([]);
    expect(pairs([side('h'), side('h')], [side('h')])).toEqual([]);
    // Unless the identity tells: the other is a copy.
    expect(pairs([side('h', '1:10')], [side('h', '1:77'), side('h', '1:10')])).toEqual([[0, 1]]);
    expect(pairs([side('')], [side('')])).toEqual([]);
  });
});
