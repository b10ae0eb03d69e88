// Unit test of the ListFollows edge over the in-memory fakes: the caller's follows only, sorted,
// in pages, with bad input refused as INVALID_ARGUMENT.
import type { CallContext, Principal } from '@filesync/server-kit';
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';
import { Committer } from './domain/commit';
import { MetadataService } from './domain/metadata-service';
import { metadataHandlers } from './handlers';
import { blocksSetup, InMemoryStore, NS } from './testing/fakes';

function setup() {
  const as = (userId: string) => {
    const principal: Principal = {
      userId,
      deviceId: 'd1',
      email: `${userId}@example.com`,
      emailVerified: true,
      namespaceIds: [NS],
    };
    return { principal: async () => principal } as unknown as CallContext;
  };
  const store = new InMemoryStore();
  const { blocks } = blocksSetup();
  const committer = new Committer({ store, blocks, clock: { now: () => 1 } });
  return { as, handlers: metadataHandlers(new MetadataService(store, committer, blocks)) };
}

describe('ListFollows', () => {
  it("lists the caller's follows by path, the whole namespace first, a page at a time", async () => {
    const { as, handlers } = setup();
    for (const path of ['docs/b', '', 'docs/a', 'photos'])
      await handlers.follow({ namespaceId: NS, path }, as('u1'));
    await handlers.follow({ namespaceId: NS, path: 'secret' }, as('u2'));

    const first = await handlers.listFollows({ namespaceId: NS, limit: 3, pageToken: '' }, as('u1'));
    expect(first.paths).toEqual(['', 'docs/a', 'docs/b']);
    expect(first.nextPageToken).not.toBe('');
    const second = await handlers.listFollows(
      { namespaceId: NS, limit: 3, pageToken: first.nextPageToken },
      as('u1'),
    );
    expect(second).toEqual({ paths: ['photos'], nextPageToken: '' });

    await handlers.unfollow({ namespaceId: NS, path: 'docs/a' }, as('u1'));
    const all = await handlers.listFollows({ namespaceId: NS, limit: 0, pageToken: '' }, as('u1'));
    expect(all).toEqual({ paths: ['', 'docs/b', 'photos'], nextPageToken: '' });
    const other = await handlers.listFollows({ namespaceId: NS, limit: 0, pageToken: '' }, as('u2'));
    expect(other.paths).toEqual(['secret']);
  });

  it.each([
    ['a limit below 1', { limit: -1, pageToken: '' }],
    ['a limit above the most', { limit: 100_000, pageToken: '' }],
    ['a page token that is not one', { limit: 0, pageToken: 'not a token' }],
    [
      'a page token naming a bad path',
      { limit: 0, pageToken: Buffer.from('{"after":"a//b"}').toString('base64url') },
    ],
  ])('refuses %s as INVALID_ARGUMENT', async (_label, request) => {
    const { as, handlers } = setup();
    const error = await domainErrorRejectedBy(
      handlers.listFollows({ namespaceId: NS, ...request }, as('u1')),
    );
    expect(error.kind).toBe('invalid-argument');
  });
});
