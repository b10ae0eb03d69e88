import { deletionsToGuard } from './mass-delete-guard';

const none = { sentToServer: [], uploads: [], fromServer: [], downloads: [] };

describe('kind 2: a move is not a mass deletion (which deletions the guard counts)', () => {
  it('a deletion sent to the server whose content is uploaded at another path is a move', () => {
    expect(
      deletionsToGuard({
        ...none,
        sentToServer: [
          { path: 'docs/a.txt', contentHash: 'ha' },
          { path: 'docs/b.txt', contentHash: 'hb' },
        ],
        uploads: [
          { path: 'archive/b.txt', contentHash: 'hb' },
          { path: 'archive/a.txt', contentHash: 'ha' },
        ],
      }),
    ).toEqual({ local: [], remote: [] });
  });

  it('a deletion from the server whose local content is downloaded at another path is a move', () => {
    expect(
      deletionsToGuard({
        ...none,
        fromServer: [
          { path: 'docs/a.txt', contentHash: 'ha' },
          { path: 'docs/gone.txt', contentHash: 'hg' },
        ],
        downloads: [{ path: 'archive/a.txt', contentHash: 'ha' }],
      }),
    ).toEqual({ local: [], remote: ['docs/gone.txt'] });
  });

  it('each arrival excuses one deletion at most, and only of its own direction', () => {
    expect(
      deletionsToGuard({
        sentToServer: [
          { path: 'a.txt', contentHash: 'same' },
          { path: 'b.txt', contentHash: 'same' },
          { path: 'c.txt', contentHash: 'hc' },
        ],
        uploads: [{ path: 'copy.txt', contentHash: 'same' }],
        fromServer: [{ path: 'd.txt', contentHash: 'hd' }],
        downloads: [{ path: 'other.txt', contentHash: 'hc' }],
      }),
    ).toEqual({ local: ['b.txt', 'c.txt'], remote: ['d.txt'] });
  });

  it('an unknown content hash or an upload at the same path never excuses a deletion', () => {
    expect(
      deletionsToGuard({
        ...none,
        sentToServer: [
          { path: 'a.txt', contentHash: '' },
          { path: 'b.txt', contentHash: 'hb' },
        ],
        uploads: [
          { path: 'x.txt', contentHash: '' },
          { path: 'b.txt', contentHash: 'hb' },
        ],
      }),
    ).toEqual({ local: ['a.txt', 'b.txt'], remote: [] });
  });
});
