// Unit test of the Follow edge for kind 15, over the in-memory fakes (kept apart from
// handlers.test.ts so the rule reads on its own).
import type { CallContext, Principal } from '@filesync/server-kit';
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';
import { Committer } from './domain/commit';
import { MetadataService } from './domain/metadata-service';
import { metadataHandlers } from './handlers';
import { blocksSetup, InMemoryStore, NS, contentChange, hashOf } from './testing/fakes';

function setup(emailVerified: boolean | undefined) {
  const principal: Principal = {
    userId: 'u1',
    deviceId: 'd1',
    email: 'u1@example.com',
    emailVerified,
    namespaceIds: [NS],
  };
  const context = { principal: async () => principal } as unknown as CallContext;
  const store = new InMemoryStore();
  const { index, blocks } = blocksSetup();
  index.add(NS, hashOf(1));
  const committer = new Committer({ store, blocks, clock: { now: () => 1 }, maxFilesPerTransaction: 32 });
  return {
    store,
    committer,
    context,
    handlers: metadataHandlers(new MetadataService(store, committer, blocks)),
  };
}

describe('kind 15: mail goes only to verified addresses (Follow)', () => {
  it.each([false, undefined])(
    'refuses a follow from an unconfirmed address (email_verified %s)',
    async (verified) => {
      const { handlers, context, store } = setup(verified);
      const error = await domainErrorRejectedBy(handlers.follow({ namespaceId: NS, path: 'docs' }, context));
      expect(error.kind).toBe('failed-precondition');
      expect(error.message).toMatch(/verify your email first: filesync verify CODE/);
      expect(await store.listFollows(NS)).toEqual([]);
    },
  );

  it('records a confirmed follow, and its commits name the follower as verified', async () => {
    const { handlers, context, store, committer } = setup(true);
    await handlers.follow({ namespaceId: NS, path: 'docs' }, context);
    expect(await store.listFollows(NS)).toEqual([
      expect.objectContaining({ userId: 'u1', emailVerified: true }),
    ]);
    await committer.commit(NS, { userId: 'u1', deviceId: 'd1', email: 'u1@example.com' }, [
      contentChange('docs/a', 0),
    ]);
    expect(store.events.at(-1)?.recipients).toEqual([
      { userId: 'u1', email: 'u1@example.com', emailVerified: true, paths: ['docs/a'] },
    ]);
  });
});
