// Unit tests with in-memory fakes of KnownBlocks and BlockStorage (no S3, no DynamoDB).
import { BlockChecker } from './block-checker';
import { InMemoryBlockStorage, InMemoryKnownBlocks, NS, hashOf } from '../testing/fakes';

describe('BlockChecker', () => {
  it('asks storage only for unknown blocks, remembers those found, returns the missing in order', async () => {
    const known = new InMemoryKnownBlocks();
    const storage = new InMemoryBlockStorage();
    await known.remember(NS, [hashOf(1)]);
    storage.add(NS, hashOf(2));
    const checker = new BlockChecker(known, storage);

    const missing = await checker.findMissing(NS, [hashOf(4), hashOf(1), hashOf(2), hashOf(3), hashOf(4)]);

    expect(missing).toEqual([hashOf(4), hashOf(3)]);
    expect(storage.asked.sort()).toEqual([hashOf(2), hashOf(3), hashOf(4)]);
    expect(await known.known(NS, [hashOf(2), hashOf(3)])).toEqual(new Set([hashOf(2)]));
  });

  it('does not ask storage again for a block it found before', async () => {
    const storage = new InMemoryBlockStorage();
    storage.add(NS, hashOf(7));
    const checker = new BlockChecker(new InMemoryKnownBlocks(), storage);
    await checker.findMissing(NS, [hashOf(7)]);
    await checker.findMissing(NS, [hashOf(7)]);
    expect(storage.asked).toEqual([hashOf(7)]);
  });

  it('keeps blocks of one namespace apart from another', async () => {
    const storage = new InMemoryBlockStorage();
    storage.add('other', hashOf(1));
    expect(await new BlockChecker(new InMemoryKnownBlocks(), storage).findMissing(NS, [hashOf(1)])).toEqual([
      hashOf(1),
    ]);
  });

  it('bounds concurrent storage requests', async () => {
    const storage = new InMemoryBlockStorage();
    const hashes = Array.from({ length: 50 }, (_, index) => hashOf(index + 1));
    await new BlockChecker(new InMemoryKnownBlocks(), storage, 4).findMissing(NS, hashes);
    expect(storage.asked).toHaveLength(50);
    expect(storage.maxInFlight).toBe(4);
  });

  it('lists the namespace once instead of asking per block when many are unknown', async () => {
    const listing = new ListingStorage();
    listing.add(NS, hashOf(1), hashOf(2));
    const hashes = Array.from({ length: 40 }, (_, index) => hashOf(index + 1));
    const missing = await new BlockChecker(new InMemoryKnownBlocks(), listing, 16, 32).findMissing(
      NS,
      hashes,
    );
    expect(missing).toEqual(hashes.slice(2));
    expect(listing.listings).toBe(1);
    expect(listing.asked).toEqual([]);
  });

  it('falls back to asking per block when listing is refused', async () => {
    const listing = new ListingStorage();
    listing.refuse = true;
    listing.add(NS, hashOf(3));
    const hashes = Array.from({ length: 40 }, (_, index) => hashOf(index + 1));
    const missing = await new BlockChecker(new InMemoryKnownBlocks(), listing, 16, 32).findMissing(
      NS,
      hashes,
    );
    expect(missing).toHaveLength(39);
    expect(listing.asked).toHaveLength(40);
  });
});

/** In-memory storage that can also list a namespace (or refuse to, like a missing permission). */
class ListingStorage extends InMemoryBlockStorage {
  listings = 0;
  refuse = false;
  async storedAmong(namespaceId: string, wanted: ReadonlySet<string>) {
    this.listings += 1;
    if (this.refuse) throw new Error('AccessDenied');
    return new Set([...wanted].filter((hash) => this.objects.has(`${namespaceId}/${hash}`)));
  }
}
