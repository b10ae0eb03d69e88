import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { callMetadata, type auth, type common, type metadata } from '@filesync/contracts';
import { LOCAL_CREDENTIALS } from '@filesync/local-stack';
import { blockHash, contentHash } from '@filesync/sync-core';
import {
  CALL_TIMEOUT_MS,
  callError,
  collect,
  connectStubs,
  deadline,
  EMPTY_CONTENT,
  signUp,
  signUpVerified,
  statusOf,
  storeBlocks,
  type Stubs,
  trailer,
  unary,
} from '@filesync/test-support';
import { readTestStack } from './support/harness';

// Issue 6, server kinds: the metadata service against DynamoDB Local and moto, through the
// generated stubs only, as a native client would call it. Real services: calls take seconds.

const stack = readTestStack();

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
/** A path of exactly `length` UTF-8 bytes: `head`, then 'x' up to the length. */
const sized = (head: string, length: number) => head + 'x'.repeat(length - bytes(head));

describe('issue 6 server kinds', () => {
  let stubs: Stubs;
  const as = (session: auth.Session) => ({ timeoutMs: CALL_TIMEOUT_MS, accessToken: session.accessToken });
  const upload = (path: string, baseVersion = 0, modifiedAtMs = 1_700_000_000_000): metadata.FileChange => ({
    path,
    baseVersion,
    content: EMPTY_CONTENT,
    delete: false,
    moveFrom: '',
    moveFromBaseVersion: 0,
    modifiedAtMs,
  });
  const removal = (path: string, baseVersion: number): metadata.FileChange => ({
    path,
    baseVersion,
    content: undefined,
    delete: true,
    moveFrom: '',
    moveFromBaseVersion: 0,
    modifiedAtMs: 1_700_000_000_000,
  });
  const commitFiles = (session: auth.Session, changes: metadata.FileChange[], confirmMassDelete = false) =>
    unary(
      stubs.metadata.commitFiles.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, changes, confirmMassDelete },
      as(session),
    );
  const commitFile = (session: auth.Session, change: metadata.FileChange) =>
    unary(
      stubs.metadata.commitFile.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, change, confirmMassDelete: false },
      as(session),
    );
  const getFile = (session: auth.Session, path: string) =>
    unary(
      stubs.metadata.getFile.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, path },
      as(session),
    );
  const listFiles = (session: auth.Session, includeDeleted = false) =>
    collect(
      stubs.metadata.listFiles(
        { namespaceId: session.rootNamespaceId, includeDeleted, pathPrefix: '', startAfter: '' },
        callMetadata(session.accessToken),
        deadline(),
      ),
    ).then((pages) => pages.flatMap((page) => page.entries));
  const outcomes = (response: metadata.CommitFilesResponse) =>
    response.results.map((result) => [result.path, result.outcome?.$case]);
  /** The content of a file of one uploaded block (uploadBlocks' blocks are 4 bytes). */
  const oneBlock = (hash: string): common.FileContent => ({
    contentHash: contentHash([hash]),
    size: 4,
    blockHashes: [hash],
  });

  beforeAll(() => {
    stubs = connectStubs(stack);
  });
  afterAll(() => stubs?.close());

  test('kind 9: paths of 1,010, 2,000 and 4,096 bytes work through every RPC, in listing order', async () => {
    // Verified, because it follows a long path (only verified addresses may follow).
    const alice = await signUpVerified(stubs, stack.emulators.ses, 'long-paths');
    const shared = sized('shared/', 1_000);
    const long = [sized('a/', 1_010), sized('b/é', 2_000), sized('c/', 4_096)];
    const sharing = [
      `${shared}/z`,
      sized(`${shared}/b`, 2_000),
      sized(`${shared}/a`, 4_096),
      sized(`${shared}/a`, 1_010),
      `${shared}`.slice(0, 990),
    ];
    const short = ['0.txt', 'b/a.txt', 'shared/0', 'zz'];
    const all = [...long, ...sharing, ...short];
    expect(Math.max(...all.map(bytes))).toBe(4_096);

    const committed = await commitFiles(
      alice,
      all.map((path) => upload(path)),
    );
    expect(committed.results.map((result) => result.outcome?.$case)).toEqual(all.map(() => 'committed'));
    expect((await listFiles(alice)).map((entry) => entry.path)).toEqual([...all].sort(byUtf8));

    for (const path of long) {
      const { entry } = await getFile(alice, path);
      expect(entry?.path).toBe(path);
      const one = await commitFile(alice, upload(path, 1));
      expect(one.entry).toMatchObject({ path, version: 2 });
      const versions = await unary(
        stubs.metadata.listVersions.bind(stubs.metadata),
        { namespaceId: alice.rootNamespaceId, path },
        as(alice),
      );
      expect(versions.versions.map((version) => [version.path, version.version])).toEqual([
        [path, 2],
        [path, 1],
      ]);
      for (const rpc of [stubs.metadata.follow, stubs.metadata.unfollow]) {
        await unary(rpc.bind(stubs.metadata), { namespaceId: alice.rootNamespaceId, path }, as(alice));
      }
      const deleted = await unary(
        stubs.metadata.deleteFile.bind(stubs.metadata),
        { namespaceId: alice.rootNamespaceId, path, baseVersion: 2, confirmMassDelete: false },
        as(alice),
      );
      expect(deleted.entry).toMatchObject({ path, version: 3, deleted: true });
    }
    const journal = await unary(
      stubs.metadata.listChanges.bind(stubs.metadata),
      { namespaceId: alice.rootNamespaceId, afterCursor: 0, limit: 0 },
      as(alice),
    );
    const changed = journal.entries.flatMap((entry) => entry.changes.map((change) => change.path));
    for (const path of all) expect(changed).toContain(path);
    expect((await listFiles(alice, true)).map((entry) => entry.path)).toEqual([...all].sort(byUtf8));
  });

  test('kind 7: one bad change is rejected for its path while the others commit', async () => {
    const bob = await signUp(stubs, 'per-path');
    const badHash = {
      ...upload('bad-hash.txt'),
      content: { contentHash: 'x', size: 1, blockHashes: ['zz'] },
    };
    const response = await commitFiles(bob, [upload('good.txt'), upload('/abs.txt'), badHash]);
    expect(outcomes(response)).toEqual([
      ['good.txt', 'committed'],
      ['/abs.txt', 'rejected'],
      ['bad-hash.txt', 'rejected'],
    ]);
    expect((await listFiles(bob)).map((entry) => entry.path)).toEqual(['good.txt']);
  });

  test('kind 7: two spellings of one path are INVALID_ARGUMENT even when one of the changes is invalid', async () => {
    const ivan = await signUp(stubs, 'one-path-twice');
    const nfdBadSize = { ...upload('cafe\u0301'), content: { ...EMPTY_CONTENT, size: 5 } };
    for (const changes of [
      [upload('caf\u00e9'), nfdBadSize],
      [nfdBadSize, upload('caf\u00e9')],
    ]) {
      const error = await callError(commitFiles(ivan, changes));
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.details).toContain('more than once');
    }
    expect(await listFiles(ivan, true)).toEqual([]);
  });

  test('kind 6: modification times before 1970 and zero round trip exactly', async () => {
    const carol = await signUp(stubs, 'old-times');
    const times = { 'zero.txt': 0, 'y1969.txt': -86_400_000, 'y1900.txt': -2_208_988_800_000 };
    const response = await commitFiles(
      carol,
      Object.entries(times).map(([path, time]) => upload(path, 0, time)),
    );
    expect(response.results.map((result) => result.outcome?.$case)).toEqual([
      'committed',
      'committed',
      'committed',
    ]);
    const listed = Object.fromEntries(
      (await listFiles(carol)).map((entry) => [entry.path, entry.modifiedAtMs]),
    );
    expect(listed).toEqual(times);
    expect((await getFile(carol, 'y1900.txt')).entry?.modifiedAtMs).toBe(-2_208_988_800_000);
  });

  test('kind 4: a file never sits at a folder of another live file, within a request and across', async () => {
    const dave = await signUp(stubs, 'tree');
    expect(outcomes(await commitFiles(dave, [upload('plan'), upload('keep.txt'), upload('notes')]))).toEqual([
      ['plan', 'committed'],
      ['keep.txt', 'committed'],
      ['notes', 'committed'],
    ]);
    const clash = await commitFiles(dave, [
      upload('plan/ch1.txt'),
      upload('a'),
      upload('a/b'),
      upload('ok.txt'),
    ]);
    expect(outcomes(clash)).toEqual([
      ['plan/ch1.txt', 'rejected'],
      ['a', 'committed'],
      ['a/b', 'rejected'],
      ['ok.txt', 'committed'],
    ]);
    expect(clash.results[0]!.outcome).toMatchObject({
      value: { clashingPath: 'plan', reason: 3 /* REJECTION_REASON_PATH_CLASH */ },
    });

    const single = await callError(commitFile(dave, upload('a/b/c')));
    expect(single.code).toBe(status.FAILED_PRECONDITION);
    expect(single.details).toContain('a is a file');
    expect(decodeURIComponent(trailer(single, 'filesync-clashing-path') ?? '')).toBe('a');

    // The same with folders longer than a key can hold (issue 6, kind 9).
    const longFile = sized('long/', 1_500);
    const longFolder = `deep/${'é'.repeat(2_000)}`; // 4,005 bytes, each é 6 bytes once percent-encoded
    await commitFiles(dave, [upload(longFile), upload(`${longFolder}/child.txt`)]);
    const longClash = await commitFiles(dave, [upload(`${longFile}/below.txt`), upload(longFolder)]);
    expect(longClash.results.map((result) => result.outcome)).toEqual([
      { $case: 'rejected', value: expect.objectContaining({ clashingPath: longFile }) },
      { $case: 'rejected', value: expect.objectContaining({ clashingPath: `${longFolder}/child.txt` }) },
    ]);

    const longSingle = await callError(commitFile(dave, upload(`${longFolder}`)));
    expect(longSingle.code).toBe(status.FAILED_PRECONDITION);
    expect(decodeURIComponent(trailer(longSingle, 'filesync-clashing-path') ?? '')).toBe(
      `${longFolder}/child.txt`,
    );

    // Replacing file `notes` by a folder in one request is accepted.
    expect(outcomes(await commitFiles(dave, [upload('notes/part1.txt'), removal('notes', 1)]))).toEqual([
      ['notes/part1.txt', 'committed'],
      ['notes', 'committed'],
    ]);
  });

  test('kind 4: of two racing commits of `plan` and `plan/x`, exactly one wins', async () => {
    const erin = await signUp(stubs, 'tree-race');
    await commitFiles(erin, [upload('keep.txt')]);
    for (let round = 0; round < 4; round += 1) {
      const [file, below] = await Promise.all([
        statusOf(commitFile(erin, upload(`plan${round}`))),
        statusOf(commitFile(erin, upload(`plan${round}/x`))),
      ]);
      expect([file, below].sort()).toEqual(['FAILED_PRECONDITION', 'OK']);
    }
    const live = (await listFiles(erin)).map((entry) => entry.path);
    for (let round = 0; round < 4; round += 1) {
      expect(live.filter((path) => path === `plan${round}` || path.startsWith(`plan${round}/`))).toHaveLength(
        1,
      );
    }
  });

  test('kind 2: an old client cannot delete 20 of 20 files in 4 batches of 5', async () => {
    const frank = await signUp(stubs, 'mass-delete');
    const paths = Array.from({ length: 20 }, (_, index) => `docs/f${String(index).padStart(2, '0')}.txt`);
    await commitFiles(
      frank,
      paths.map((path) => upload(path)),
    );
    // New content: an empty upload would receive a deleted empty file's content, a move.
    const blocks = await uploadBlocks(frank, 4);
    const answers: string[][] = [];
    for (let batch = 0; batch < 4; batch += 1) {
      const response = await commitFiles(frank, [
        ...paths.slice(batch * 5, batch * 5 + 5).map((path) => removal(path, 1)),
        { ...upload(`new${batch}.txt`), content: oneBlock(blocks[batch]!) },
      ]);
      answers.push([...new Set(response.results.map((result) => result.outcome?.$case ?? ''))]);
      if (batch === 2) {
        expect(response.results[0]!.outcome).toMatchObject({
          value: { reason: 4 /* REJECTION_REASON_MASS_DELETE */ },
        });
      }
    }
    // Each batch's upload commits; deletions stop once they would pass the rule.
    expect(answers).toEqual([
      ['committed'],
      ['committed'],
      ['rejected', 'committed'],
      ['rejected', 'committed'],
    ]);
    const live = (await listFiles(frank)).map((entry) => entry.path);
    expect(live.filter((path) => path.startsWith('docs/'))).toHaveLength(10);

    // The 4 uploads count as live files of the window too (24): 12 deletions are half, not more.
    const half = await commitFiles(
      frank,
      paths.slice(10, 12).map((path) => removal(path, 1)),
    );
    expect(half.results.map((result) => result.outcome?.$case)).toEqual(['committed', 'committed']);
    const refused = await callError(
      unary(
        stubs.metadata.deleteFile.bind(stubs.metadata),
        { namespaceId: frank.rootNamespaceId, path: paths[15]!, baseVersion: 1, confirmMassDelete: false },
        as(frank),
      ),
    );
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(trailer(refused, 'filesync-mass-delete')).toBe('confirm_mass_delete');
    const confirmed = await commitFiles(
      frank,
      paths.slice(12).map((path) => removal(path, 1)),
      true,
    );
    expect(confirmed.results.map((result) => result.outcome?.$case)).toEqual(Array(8).fill('committed'));
  });

  test('kind 2: a move is not a deletion: renames and moves of every file commit, a refused move leaves no duplicate', async () => {
    const judy = await signUp(stubs, 'moves');
    const [c0, c1, c2] = (await uploadBlocks(judy, 3)).map(oneBlock);
    const live = async () => (await listFiles(judy)).map((entry) => [entry.path, entry.content?.contentHash]);
    const paths = async () => (await listFiles(judy)).map((entry) => entry.path);

    // Replacing the only file `d/f000` by `d/f000/x` of the same content converges in one request.
    await commitFiles(judy, [{ ...upload('d/f000'), content: c0 }]);
    expect(
      outcomes(await commitFiles(judy, [removal('d/f000', 1), { ...upload('d/f000/x'), content: c0 }])),
    ).toEqual([
      ['d/f000', 'committed'],
      ['d/f000/x', 'committed'],
    ]);
    // Renaming the only file of the namespace.
    expect(
      outcomes(await commitFiles(judy, [removal('d/f000/x', 1), { ...upload('d/renamed'), content: c0 }])),
    ).toEqual([
      ['d/f000/x', 'committed'],
      ['d/renamed', 'committed'],
    ]);
    expect(await live()).toEqual([['d/renamed', c0!.contentHash]]);

    // Moving all 3 files of the namespace into sub/.
    await commitFiles(judy, [
      { ...upload('d/a'), content: c1 },
      { ...upload('d/b'), content: c2 },
    ]);
    const moved = await commitFiles(judy, [
      removal('d/renamed', 1),
      removal('d/a', 1),
      removal('d/b', 1),
      { ...upload('sub/b'), content: c2 },
      { ...upload('sub/renamed'), content: c0 },
      { ...upload('sub/a'), content: c1 },
    ]);
    expect(new Set(moved.results.map((result) => result.outcome?.$case))).toEqual(new Set(['committed']));
    expect(await paths()).toEqual(['sub/a', 'sub/b', 'sub/renamed']);
    // The moves used none of the window: deleting every file outright is still refused.
    const wipe = await commitFiles(judy, [
      removal('sub/a', 1),
      removal('sub/b', 1),
      removal('sub/renamed', 1),
    ]);
    expect(new Set(wipe.results.map((result) => result.outcome?.$case))).toEqual(new Set(['rejected']));

    // 12 empty files: deleting all, one of them moved, is still a mass deletion. The move's
    // creation is refused with it (no duplicate); an unrelated upload commits.
    const mallory = await signUp(stubs, 'refused-move');
    const empties = Array.from({ length: 12 }, (_, index) => `e/f${String(index).padStart(2, '0')}`);
    await commitFiles(
      mallory,
      empties.map((path) => upload(path)),
    );
    const [fresh] = await uploadBlocks(mallory, 1);
    const refused = await commitFiles(mallory, [
      ...empties.map((path) => removal(path, 1)),
      upload('moved/f00'),
      { ...upload('new.txt'), content: oneBlock(fresh!) },
    ]);
    expect(outcomes(refused)).toEqual([
      ...empties.map((path) => [path, 'rejected']),
      ['moved/f00', 'rejected'],
      ['new.txt', 'committed'],
    ]);
    expect(refused.results[12]!.outcome).toMatchObject({
      value: {
        reason: 4 /* REJECTION_REASON_MASS_DELETE */,
        message: expect.stringContaining('refused move'),
      },
    });
    expect((await listFiles(mallory)).map((entry) => entry.path)).toEqual([...empties, 'new.txt']);
  });

  test('kind 10: a file of 50,000 blocks commits and reads back whole through every read', async () => {
    const grace = await signUp(stubs, 'big-file');
    // 97 real blocks repeated in a non-periodic-looking order: the list has 50,000 entries (the
    // item-size problem), while the block check stays cheap (it looks at each distinct block once).
    const distinct = await uploadBlocks(grace, 97);
    const blockHashes = Array.from(
      { length: 50_000 },
      (_, index) => distinct[(index * 31 + (index >> 7)) % 97]!,
    );
    const content: common.FileContent = {
      contentHash: contentHash(blockHashes),
      size: 50_000 * 4,
      blockHashes,
    };
    const started = Date.now();
    const response = await commitFiles(grace, [{ ...upload('huge.bin'), content }, upload('small.txt')]);
    expect(outcomes(response)).toEqual([
      ['huge.bin', 'committed'],
      ['small.txt', 'committed'],
    ]);
    const commitMs = Date.now() - started;

    expect((await getFile(grace, 'huge.bin')).entry?.content?.blockHashes).toEqual(blockHashes);
    const listed = await listFiles(grace);
    expect(listed.map((entry) => [entry.path, entry.content?.blockHashes.length])).toEqual([
      ['huge.bin', 50_000],
      ['small.txt', 0],
    ]);
    expect(listed[0]!.content?.blockHashes).toEqual(blockHashes);
    const versions = await unary(
      stubs.metadata.listVersions.bind(stubs.metadata),
      { namespaceId: grace.rootNamespaceId, path: 'huge.bin' },
      as(grace),
    );
    expect(versions.versions[0]?.content?.blockHashes).toEqual(blockHashes);
    const journal = await unary(
      stubs.metadata.listChanges.bind(stubs.metadata),
      { namespaceId: grace.rootNamespaceId, afterCursor: 0, limit: 0 },
      as(grace),
    );
    expect(journal.entries[0]?.changes[0]?.content?.blockHashes).toEqual(blockHashes);
    // An edit of the big file (same list, based on version 1) commits too.
    expect((await commitFile(grace, { ...upload('huge.bin', 1), content })).entry?.version).toBe(2);
    expect(commitMs).toBeLessThan(60_000);
  });

  test('kind 10: 50,000 distinct blocks: the commit check and the stored list hold at that size', async () => {
    const heidi = await signUp(stubs, 'big-distinct');
    const blockHashes = Array.from({ length: 50_000 }, () => blockHash(randomBytes(8)));
    // The seam: the blocks are written into the block index as items from before packs (objects
    // of their own, which the index counts as present), instead of 50,000 uploads to the emulator.
    await registerKnownBlocks(heidi.rootNamespaceId, blockHashes);
    const content: common.FileContent = {
      contentHash: contentHash(blockHashes),
      size: 50_000 * 8,
      blockHashes,
    };

    const missing = await unary(
      stubs.metadata.findMissingBlocks.bind(stubs.metadata),
      { namespaceId: heidi.rootNamespaceId, blockHashes: blockHashes.slice(0, 10_000) },
      as(heidi),
    );
    expect(missing.missingBlockHashes).toEqual([]);
    const started = Date.now();
    // The call's deadline is the loose bound below, not the default 10 s the verification alone
    // takes on a loaded machine.
    const response = await unary(
      stubs.metadata.commitFiles.bind(stubs.metadata),
      {
        namespaceId: heidi.rootNamespaceId,
        changes: [{ ...upload('distinct.bin'), content }],
        confirmMassDelete: false,
      },
      { ...as(heidi), timeoutMs: 100_000 },
    );
    const commitMs = Date.now() - started;
    expect(outcomes(response)).toEqual([['distinct.bin', 'committed']]);
    expect((await getFile(heidi, 'distinct.bin')).entry?.content?.blockHashes).toEqual(blockHashes);
    // Loosely bounded: the machine is shared. Verifying 50,000 known blocks is 500 batch reads of
    // the table (about 8 s on DynamoDB Local); recording them took about 24 s.
    expect(commitMs).toBeLessThan(100_000);
  });

  /** Writes `BLOCK#<hash>` items as the metadata service recorded verified blocks before packs. */
  async function registerKnownBlocks(namespaceId: string, hashes: readonly string[]): Promise<void> {
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: stack.resources.region,
        endpoint: stack.emulators.dynamodb,
        credentials: LOCAL_CREDENTIALS,
      }),
    );
    try {
      const batches: string[][] = [];
      for (let index = 0; index < hashes.length; index += 25) batches.push(hashes.slice(index, index + 25));
      let next = 0;
      const worker = async () => {
        for (let batch = batches[next++]; batch; batch = batches[next++]) {
          let pending: Record<string, any>[] = batch.map((hash) => ({
            PutRequest: {
              Item: { pk: `NS#${namespaceId}`, sk: `BLOCK#${hash}`, hash, verifiedAtMs: Date.now() },
            },
          }));
          while (pending.length > 0) {
            const output = await client.send(
              new BatchWriteCommand({
                RequestItems: { [stack.resources.tables.metadata]: pending as never },
              }),
            );
            pending = output.UnprocessedItems?.[stack.resources.tables.metadata] ?? [];
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    } finally {
      client.destroy();
    }
  }

  /** Stores `count` small random blocks the way a client does: one pack, written and registered. */
  async function uploadBlocks(session: auth.Session, count: number): Promise<string[]> {
    const blocks = Array.from({ length: count }, () => randomBytes(4));
    await storeBlocks(stubs, session, session.rootNamespaceId, blocks);
    return blocks.map((block) => blockHash(block));
  }
});
