// Integration tests of RegisterPacks' block index writes without a first read (DynamoDB Local).
import { startDynamoDbLocal, type LocalDynamo } from '../testing/dynamo-local';
import { DynamoBlockIndex } from './dynamo-block-index';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
});
afterAll(() => dynamo?.stop());

const hash = (i: number) => i.toString(16).padStart(64, '0');
const block = (i: number, packId: string) => ({ hash: hash(i), packId, offset: i * 10, length: 10 });

describe('addBlocks: a batched read, then batch writes of the blocks not indexed', () => {
  it('re-registering a mix of indexed and new blocks keeps old locations and indexes the new ones', async () => {
    const tables = await dynamo.createTables('rb1');
    const index = new DynamoBlockIndex(dynamo.documents, tables.metadata);
    const first = await index.addBlocks(
      'ns',
      Array.from({ length: 250 }, (_, i) => block(i * 2, 'p1')),
      1,
    );
    expect(first.every((o) => o.kind === 'indexed')).toBe(true);
    const again = await index.addBlocks(
      'ns',
      Array.from({ length: 500 }, (_, i) => block(i, 'p2')),
      2,
    );
    again.forEach((outcome, i) => {
      if (i % 2 === 0) expect(outcome).toMatchObject({ kind: 'exists', existing: { packId: 'p1' } });
      else expect(outcome.kind).toBe('indexed');
    });
    const located = await index.lookup(
      'ns',
      Array.from({ length: 500 }, (_, i) => hash(i)),
    );
    for (let i = 0; i < 500; i += 1) expect(located.get(hash(i))?.packId).toBe(i % 2 === 0 ? 'p1' : 'p2');
  });

  it('two registrations of the same 400 blocks at once leave each block indexed once, in one of the two packs', async () => {
    const tables = await dynamo.createTables('rb2');
    const index = new DynamoBlockIndex(dynamo.documents, tables.metadata);
    const [a, b] = await Promise.all([
      index.addBlocks(
        'ns',
        Array.from({ length: 400 }, (_, i) => block(i, 'pa')),
        1,
      ),
      index.addBlocks(
        'ns',
        Array.from({ length: 400 }, (_, i) => block(i, 'pb')),
        1,
      ),
    ]);
    const located = await index.lookup(
      'ns',
      Array.from({ length: 400 }, (_, i) => hash(i)),
    );
    for (let i = 0; i < 400; i += 1) {
      const winner = located.get(hash(i))!.packId;
      // Both may have written it (no read saw the other's write): the later location stands.
      expect(['pa', 'pb']).toContain(winner);
      expect([a[i]!.kind, b[i]!.kind]).toContain('indexed');
      if (a[i]!.kind === 'exists') expect(winner).toBe('pb');
      if (b[i]!.kind === 'exists') expect(winner).toBe('pa');
    }
  });
});
