// Unit tests of the block-index RPCs at the gRPC edge, with in-memory fakes of the domain ports
// (testing/fakes.ts) and a fake call context (no server, no network).
import type { CallContext, Principal } from '@filesync/server-kit';
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';
import { packTrailerBytes } from '@filesync/sync-core';
import { Committer } from './domain/commit';
import { MetadataService } from './domain/metadata-service';
import { metadataHandlers } from './handlers';
import { InMemoryStore, NS, blocksSetup, hashOf } from './testing/fakes';

const principal: Principal = { userId: 'u1', deviceId: 'd1', email: 'u1@example.com', namespaceIds: [NS] };
const context = { principal: async () => principal } as unknown as CallContext;
const PACK = hashOf(0xfeed);

function setup() {
  const store = new InMemoryStore();
  const { index, packs, blocks } = blocksSetup();
  const committer = new Committer({ store, blocks, clock: { now: () => 1 }, maxFilesPerTransaction: 32 });
  return { index, packs, handlers: metadataHandlers(new MetadataService(store, committer, blocks)) };
}

const pack = (size = 30 + packTrailerBytes(2)) => ({
  packId: PACK,
  size,
  blocks: [
    { blockHash: hashOf(1), offset: 0, length: 10 },
    { blockHash: hashOf(2), offset: 10, length: 20 },
  ],
});

describe('registerPacks and locateBlocks handlers', () => {
  it('registers a stored pack and answers its blocks by range, legacy blocks as whole objects', async () => {
    const { index, packs, handlers } = setup();
    packs.put(NS, PACK, pack().size);
    index.add(NS, hashOf(9));
    expect(await handlers.registerPacks({ namespaceId: NS, packs: [pack()] }, context)).toEqual({
      blocksIndexed: 2,
      blocksAlreadyIndexed: 0,
    });
    expect(
      await handlers.locateBlocks(
        { namespaceId: NS, blockHashes: [hashOf(2), hashOf(9), hashOf(3)] },
        context,
      ),
    ).toEqual({
      locations: [
        { blockHash: hashOf(2), packId: PACK, offset: 10, length: 20 },
        { blockHash: hashOf(9), packId: '', offset: 0, length: 0 },
      ],
      missingBlockHashes: [hashOf(3)],
    });
  });

  it('refuses a malformed pack before asking storage, and a pack storage lacks after one HEAD', async () => {
    const { packs, handlers } = setup();
    const invalid = await domainErrorRejectedBy(
      handlers.registerPacks({ namespaceId: NS, packs: [pack(10)] }, context),
    );
    expect(invalid.kind).toBe('invalid-argument');
    expect(packs.heads).toBe(0);
    const missing = await domainErrorRejectedBy(
      handlers.registerPacks({ namespaceId: NS, packs: [pack()] }, context),
    );
    expect(missing.kind).toBe('failed-precondition');
    expect(missing.details).toEqual({ 'missing-packs': PACK });
    expect(packs.heads).toBe(1);
  });

  it('refuses namespaces the token does not grant', async () => {
    const { handlers } = setup();
    const denied = await domainErrorRejectedBy(
      handlers.locateBlocks({ namespaceId: 'other', blockHashes: [] }, context),
    );
    expect(denied.kind).toBe('permission-denied');
  });
});
