// Unit tests: pure follower matching.
import { resolveRecipients } from './followers';
import type { Follow } from './model';

const follow = (userId: string, path: string): Follow => ({
  namespaceId: 'ns',
  path,
  userId,
  email: `${userId}@example.com`,
  emailVerified: true,
});

describe('resolveRecipients', () => {
  it('matches a folder follow to paths below it but not to a sibling sharing its prefix', () => {
    const recipients = resolveRecipients([follow('u1', 'docs')], ['docs/a', 'docs2/a', 'docs']);
    expect(recipients).toEqual([
      { userId: 'u1', email: 'u1@example.com', emailVerified: true, paths: ['docs/a', 'docs'] },
    ]);
  });

  it('matches a file follow exactly and "" to the whole namespace', () => {
    const recipients = resolveRecipients(
      [follow('file', 'docs/a.txt'), follow('all', '')],
      ['docs/a.txt', 'docs/a.txt.bak', 'x'],
    );
    expect(recipients).toEqual([
      {
        userId: 'all',
        email: 'all@example.com',
        emailVerified: true,
        paths: ['docs/a.txt', 'docs/a.txt.bak', 'x'],
      },
      { userId: 'file', email: 'file@example.com', emailVerified: true, paths: ['docs/a.txt'] },
    ]);
  });

  it('names each user once with the union of paths their follows cover, in commit order', () => {
    const recipients = resolveRecipients([follow('u1', 'b'), follow('u1', 'a')], ['a/1', 'c', 'b/2']);
    expect(recipients).toEqual([
      { userId: 'u1', email: 'u1@example.com', emailVerified: true, paths: ['a/1', 'b/2'] },
    ]);
  });

  it('kind 15: leaves out follows of unconfirmed addresses, such as those made before verification', () => {
    const unverified = { ...follow('u2', ''), emailVerified: undefined };
    expect(resolveRecipients([unverified, follow('u1', '')], ['a'])).toEqual([
      { userId: 'u1', email: 'u1@example.com', emailVerified: true, paths: ['a'] },
    ]);
  });

  it('leaves out followers none of whose follows match', () => {
    expect(resolveRecipients([follow('u1', 'docs/deep')], ['docs/other'])).toEqual([]);
  });
});
