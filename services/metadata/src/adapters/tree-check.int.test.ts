// Integration tests of the folder-marker tree check (issue 7) against DynamoDB Local: races,
// legacy namespaces, long paths, folders of many tombstones, creations over tombstones.
import {
  BatchWriteCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { MetadataStore } from '../domain/ports';
import { ACTOR, NS, committerSetup, contentChange, deleteChange } from '../testing/fakes';
import { startDynamoDbLocal, type LocalDynamo } from '../testing/dynamo-local';
import { DynamoMetadataStore, type MetadataTables } from './dynamo-metadata-store';

let dynamo: LocalDynamo;
let tableCount = 0;
beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
});
afterAll(() => dynamo?.stop());

/** Every item of the test namespace in the metadata table. */
const allItems = (tables: MetadataTables) => dynamo.namespaceItems(tables.metadata, NS);

async function setup() {
  const tables = await dynamo.createTables(`r${++tableCount}`);
  const queries = { count: 0 };
  const client = {
    send: (command: any) => {
      if (command instanceof QueryCommand) queries.count += 1;
      return dynamo.documents.send(command);
    },
  } as unknown as DynamoDBDocumentClient;
  const clock = { now: () => Date.now() };
  const newStore = () => new DynamoMetadataStore(client, tables, { now: clock.now });
  const newCommitter = (store: MetadataStore) =>
    committerSetup({ store, clock, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }).committer;
  const store = newStore();
  return { tables, store, newStore, newCommitter, committer: newCommitter(store), queries };
}

async function livePaths(tables: MetadataTables): Promise<string[]> {
  return (await allItems(tables))
    .filter((item) => String(item.sk).startsWith('FILE#') && item.deleted !== true)
    .map((item) => String(item.path));
}

function treeViolations(live: readonly string[]): string[] {
  const set = new Set(live);
  return live.flatMap((path) => {
    const out: string[] = [];
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      if (set.has(path.slice(0, i))) out.push(`${path.slice(0, i)} is a file above ${path}`);
    }
    return out;
  });
}

/** Removes the markers and the head flag: a namespace as a service without markers left it. */
async function makeLegacy(tables: MetadataTables) {
  const items = await allItems(tables);
  const folders = items.filter((item) => String(item.sk).startsWith('FOLDER#'));
  for (let i = 0; i < folders.length; i += 25) {
    await dynamo.documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [tables.metadata]: folders
            .slice(i, i + 25)
            .map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })),
        },
      }),
    );
  }
  const head = items.find((item) => item.sk === 'HEAD')!;
  delete head.folderMarkers;
  await dynamo.documents.send(new PutCommand({ TableName: tables.metadata, Item: head }));
}

/** Holds every store.commit until `parties` calls reached it, so both checks ran at one head. */
function barrier(parties: number) {
  let waiting: (() => void)[] = [];
  return (store: DynamoMetadataStore) => {
    const original = store.commit.bind(store);
    let first = true;
    store.commit = async (write) => {
      if (first) {
        first = false;
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (waiting.length === parties) {
            for (const go of waiting) go();
            waiting = [];
          }
        });
      }
      return original(write);
    };
  };
}

describe('races of `a` and `a/b` from two services (DynamoDB Local)', () => {
  for (const legacy of [false, true]) {
    it(`keeps the tree when both checks ran at one head${legacy ? ' (legacy namespace)' : ''}`, async () => {
      for (let round = 0; round < 6; round += 1) {
        const context = await setup();
        await context.committer.commit(NS, ACTOR, [contentChange('seed/x', 0, [1])]);
        if (legacy) await makeLegacy(context.tables);
        const hold = barrier(2);
        const storeA = context.newStore();
        const storeB = context.newStore();
        hold(storeA);
        hold(storeB);
        const a = context.newCommitter(storeA);
        const b = context.newCommitter(storeB);
        const [ra, rb] = await Promise.all([
          a.commit(NS, ACTOR, [contentChange(round % 2 ? 'a' : 'a/b', 0, [2])]),
          b.commit(NS, ACTOR, [contentChange(round % 2 ? 'a/b' : 'a', 0, [3])]),
        ]);
        const kinds = [ra.outcomes[0]!.kind, rb.outcomes[0]!.kind].sort();
        expect(kinds).toEqual(['committed', 'rejected']);
        expect(treeViolations(await livePaths(context.tables))).toEqual([]);
      }
    });
  }

  it('keeps the tree under random concurrent commits of four services (creates and deletes)', async () => {
    const context = await setup();
    await context.committer.commit(NS, ACTOR, [contentChange('seed', 0, [1])]);
    await makeLegacy(context.tables);
    const names = ['p', 'p/q', 'p/q/r', 'p/s', 'p/q/r/t'];
    const committers = Array.from({ length: 4 }, () => context.newCommitter(context.newStore()));
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let round = 0; round < 15; round += 1) {
      const items = await allItems(context.tables);
      const files = new Map(
        items
          .filter((item) => String(item.sk).startsWith('FILE#'))
          .map((item) => [String(item.path), item] as const),
      );
      await Promise.all(
        committers.map(async (committer) => {
          const changes = names
            .filter(() => random() < 0.5)
            .map((path) => {
              const entry = files.get(path);
              if (!entry) return contentChange(path, 0, [1 + Math.floor(random() * 10)]);
              if (entry.deleted) return contentChange(path, Number(entry.version), [2]);
              return random() < 0.6
                ? deleteChange(path, Number(entry.version))
                : contentChange(path, Number(entry.version), [3]);
            });
          if (changes.length === 0) return;
          try {
            await committer.commit(NS, ACTOR, changes, { confirmMassDelete: true });
          } catch (error) {
            if (!/busy/.test(String(error))) throw error;
          }
        }),
      );
      expect(treeViolations(await livePaths(context.tables))).toEqual([]);
    }
  });
});

describe('multi-transaction calls racing (the head reused between transactions)', () => {
  it('keeps the tree and the live count when 300 files below `m` race with a file `m`', async () => {
    for (let round = 0; round < 4; round += 1) {
      const context = await setup();
      await context.committer.commit(NS, ACTOR, [contentChange('seed', 0, [1])]);
      if (round % 2) await makeLegacy(context.tables);
      const a = context.newCommitter(context.newStore());
      const b = context.newCommitter(context.newStore());
      const many = Array.from({ length: 300 }, (_, i) => contentChange(`m/${i}`, 0, [2]));
      const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const [ra, rb] = await Promise.all([
        a.commit(NS, ACTOR, many),
        delay(round * 40).then(() => b.commit(NS, ACTOR, [contentChange('m', 0, [3])])),
      ]);
      const live = await livePaths(context.tables);
      expect(treeViolations(live)).toEqual([]);
      const head = (await allItems(context.tables)).find((item) => item.sk === 'HEAD')!;
      expect(head.live).toBe(live.length);
      const committedA = ra.outcomes.filter((o) => o.kind === 'committed').length;
      const committedB = rb.outcomes.filter((o) => o.kind === 'committed').length;
      expect(live.length).toBe(1 + committedA + committedB);
      console.log(`round ${round}: ${committedA} of m/*, ${committedB} of m`);
    }
  });
});

describe('long paths (4 KiB, digested keys)', () => {
  const long = (tag: string, bytes: number) =>
    `${tag}/${'é'.repeat(Math.floor((bytes - tag.length - 1) / 2))}`;

  it('refuses a file at a 3 KiB folder of a live file, and a file below a 3 KiB file', async () => {
    const { committer } = await setup();
    const folder = long('d', 3000);
    expect(
      (await committer.commit(NS, ACTOR, [contentChange(`${folder}/x`, 0, [1])])).outcomes[0]!.kind,
    ).toBe('committed');
    expect((await committer.commit(NS, ACTOR, [contentChange(folder, 0, [2])])).outcomes[0]).toMatchObject({
      kind: 'rejected',
      clashingPath: `${folder}/x`,
    });
    const file = long('f', 2000);
    await committer.commit(NS, ACTOR, [contentChange(file, 0, [1])]);
    expect(
      (await committer.commit(NS, ACTOR, [contentChange(`${file}/below`, 0, [2])])).outcomes[0],
    ).toMatchObject({
      kind: 'rejected',
      clashingPath: file,
    });
  });

  it('allows a file at an emptied 900-byte-boundary folder and refuses while a 4 KiB file lies below', async () => {
    const { committer } = await setup();
    // A folder cut in the middle of a 2-byte character at the key prefix (896 bytes).
    const folder = `g/${'a'.repeat(893)}${'é'.repeat(40)}`;
    const below = `${folder}/${'z'.repeat(4096 - folder.length * 2 - 2)}`.slice(0, 4000);
    expect(Buffer.byteLength(below)).toBeLessThanOrEqual(4096);
    await committer.commit(NS, ACTOR, [contentChange(below, 0, [1]), contentChange('keep', 0, [1])]);
    expect((await committer.commit(NS, ACTOR, [contentChange(folder, 0, [2])])).outcomes[0]!.kind).toBe(
      'rejected',
    );
    await committer.commit(NS, ACTOR, [deleteChange(below, 1)]);
    expect((await committer.commit(NS, ACTOR, [contentChange(folder, 0, [2])])).outcomes[0]!.kind).toBe(
      'committed',
    );
  });
});

/** Commits `paths` (and a file `keep`, so the namespace is not emptied), then deletes them. */
async function tombstones(committer: Awaited<ReturnType<typeof setup>>['committer'], paths: string[]) {
  await committer.commit(NS, ACTOR, [
    ...paths.map((p) => contentChange(p, 0, [1])),
    contentChange('keep', 0, [1]),
  ]);
  await committer.commit(
    NS,
    ACTOR,
    paths.map((p) => deleteChange(p, 1)),
    { confirmMassDelete: true },
  );
}

describe('a file where a folder of many deleted files was', () => {
  it('checks a file at a folder of 2,000 tombstones in a bounded number of queries', async () => {
    const { committer, queries } = await setup();
    const paths = Array.from({ length: 2000 }, (_, i) => `big/${String(i).padStart(6, '0')}`);
    await tombstones(committer, paths);
    queries.count = 0;
    const result = await committer.commit(NS, ACTOR, [contentChange('big', 0, [2])]);
    expect(result.outcomes[0]!.kind).toBe('committed');
    // 1 MB pages: the 2,000 tombstones (about 300 KB) take one or two queries, not one per 25.
    expect(queries.count).toBeLessThanOrEqual(10);
  });
});

describe('creations over tombstones named as version 0', () => {
  it('reports every conflict of a 97-file transaction in one cancelled attempt', async () => {
    const { committer, store } = await setup();
    const paths = Array.from({ length: 97 }, (_, i) => `r/${i}`);
    await tombstones(committer, paths);
    let attempts = 0;
    const original = store.commit.bind(store);
    store.commit = (write) => {
      attempts += 1;
      return original(write);
    };
    const result = await committer.commit(
      NS,
      ACTOR,
      paths.map((p) => contentChange(p, 0, [2])),
    );
    expect(result.outcomes.every((o) => o.kind === 'conflict')).toBe(true);
    console.log(`97 creations over tombstones: ${attempts} transaction attempts`);
    expect(attempts).toBeLessThanOrEqual(2);
  });
});
