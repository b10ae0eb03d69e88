import { callMetadata, metadata, type auth } from '@filesync/contracts';
import {
  as,
  buildPack,
  collect,
  connectStubs,
  deadline,
  EMPTY_CONTENT,
  packMessage,
  signUp,
  signUpVerified,
  statusOf,
  type Stubs,
  unary,
} from '@filesync/test-support';
import { readContractStack } from './support/harness';

const HASH = 'a'.repeat(64);

// MetadataService on the wire: each RPC's answer fields, and the documented status of bad input.
describe('MetadataService (metadata image)', () => {
  const stack = readContractStack();
  let stubs: Stubs;
  let alice: auth.Session;
  let bob: auth.Session;

  const call = () => ({
    commitFile: stubs.metadata.commitFile.bind(stubs.metadata),
    commitFiles: stubs.metadata.commitFiles.bind(stubs.metadata),
    getFile: stubs.metadata.getFile.bind(stubs.metadata),
    listVersions: stubs.metadata.listVersions.bind(stubs.metadata),
    deleteFile: stubs.metadata.deleteFile.bind(stubs.metadata),
    follow: stubs.metadata.follow.bind(stubs.metadata),
    unfollow: stubs.metadata.unfollow.bind(stubs.metadata),
    listChanges: stubs.metadata.listChanges.bind(stubs.metadata),
    findMissingBlocks: stubs.metadata.findMissingBlocks.bind(stubs.metadata),
    registerPacks: stubs.metadata.registerPacks.bind(stubs.metadata),
    locateBlocks: stubs.metadata.locateBlocks.bind(stubs.metadata),
  });
  const change = (path: string, baseVersion = 0): metadata.FileChange => ({
    path,
    baseVersion,
    content: EMPTY_CONTENT,
    delete: false,
    moveFrom: '',
    moveFromBaseVersion: 0,
    modifiedAtMs: 1_700_000_000_000,
  });
  const listFiles = (session: auth.Session | undefined, namespaceId: string, includeDeleted = true) =>
    collect(
      stubs.metadata.listFiles(
        { namespaceId, includeDeleted, pathPrefix: '', startAfter: '' },
        callMetadata(session?.accessToken),
        deadline(),
      ),
    );

  beforeAll(async () => {
    stubs = connectStubs(stack);
    // Alice follows paths, which needs a confirmed address.
    [alice, bob] = await Promise.all([
      signUpVerified(stubs, stack.emulators.ses, 'meta-alice'),
      signUp(stubs, 'meta-bob'),
    ]);
  });

  afterAll(() => stubs?.close());

  test('GetFile, ListVersions and DeleteFile: current entry, history newest first, tombstone', async () => {
    const ns = alice.rootNamespaceId;
    await unary(
      call().commitFile,
      { confirmMassDelete: false, namespaceId: ns, change: change('a/x.txt') },
      as(alice),
    );
    await unary(
      call().commitFile,
      { confirmMassDelete: false, namespaceId: ns, change: change('a/x.txt', 1) },
      as(alice),
    );

    const { entry } = await unary(call().getFile, { namespaceId: ns, path: 'a/x.txt' }, as(alice));
    expect(entry).toMatchObject({
      namespaceId: ns,
      path: 'a/x.txt',
      version: 2,
      deleted: false,
      content: EMPTY_CONTENT,
    });
    expect(entry?.modifiedAtMs).toBe(1_700_000_000_000);
    expect(entry?.committedAtMs).toBeGreaterThan(1_700_000_000_000);

    // a/x.txt is the namespace's only file: deleting it is a mass deletion the user confirms.
    const deleted = await unary(
      call().deleteFile,
      { confirmMassDelete: true, namespaceId: ns, path: 'a/x.txt', baseVersion: 2 },
      as(alice),
    );
    expect(deleted.entry).toMatchObject({ version: 3, deleted: true });
    expect(deleted.cursor).toBe(deleted.entry?.journalSeq);
    expect(
      (await unary(call().getFile, { namespaceId: ns, path: 'a/x.txt' }, as(alice))).entry?.deleted,
    ).toBe(true);

    const { versions } = await unary(call().listVersions, { namespaceId: ns, path: 'a/x.txt' }, as(alice));
    expect(versions.map((version) => [version.version, version.deleted])).toEqual([
      [3, true],
      [2, false],
      [1, false],
    ]);

    expect({
      getMissing: await statusOf(unary(call().getFile, { namespaceId: ns, path: 'never' }, as(alice))),
      versionsMissing: await statusOf(
        unary(call().listVersions, { namespaceId: ns, path: 'never' }, as(alice)),
      ),
      deleteMissing: await statusOf(
        unary(
          call().deleteFile,
          { confirmMassDelete: false, namespaceId: ns, path: 'never', baseVersion: 1 },
          as(alice),
        ),
      ),
      deleteTwice: await statusOf(
        unary(
          call().deleteFile,
          { confirmMassDelete: false, namespaceId: ns, path: 'a/x.txt', baseVersion: 3 },
          as(alice),
        ),
      ),
      deleteStale: await statusOf(
        unary(
          call().deleteFile,
          { confirmMassDelete: false, namespaceId: ns, path: 'a/x.txt', baseVersion: 1 },
          as(alice),
        ),
      ),
    }).toEqual({
      getMissing: 'NOT_FOUND',
      versionsMissing: 'NOT_FOUND',
      deleteMissing: 'NOT_FOUND',
      deleteTwice: 'FAILED_PRECONDITION',
      deleteStale: 'FAILED_PRECONDITION',
    });
  });

  test('ListFiles: pages ordered by path, tombstones only when asked, the cursor even when empty', async () => {
    const ns = bob.rootNamespaceId;
    const empty = await listFiles(bob, ns);
    expect(empty).toEqual([{ entries: [], cursor: 0 }]);

    const batch = await unary(
      call().commitFiles,
      {
        confirmMassDelete: false,
        namespaceId: ns,
        changes: [change('b.txt'), change('a.txt'), change('c/d.txt')],
      },
      as(bob),
    );
    await unary(
      call().deleteFile,
      { confirmMassDelete: false, namespaceId: ns, path: 'b.txt', baseVersion: 1 },
      as(bob),
    );

    const pages = await listFiles(bob, ns);
    expect(pages.flatMap((page) => page.entries).map((entry) => [entry.path, entry.deleted])).toEqual([
      ['a.txt', false],
      ['b.txt', true],
      ['c/d.txt', false],
    ]);
    expect(pages[0]?.cursor).toBe(batch.cursor + 1);
    const live = await listFiles(bob, ns, false);
    expect(live.flatMap((page) => page.entries).map((entry) => entry.path)).toEqual(['a.txt', 'c/d.txt']);
  });

  test('ListChanges: journal entries after a cursor, oldest first, paged by limit', async () => {
    const ns = alice.rootNamespaceId;
    const all = await unary(call().listChanges, { namespaceId: ns, afterCursor: 0, limit: 0 }, as(alice));
    expect(all.entries.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(all.entries[2]?.changes[0]).toMatchObject({ path: 'a/x.txt', version: 3, deleted: true });
    expect(all).toMatchObject({ cursor: 3, hasMore: false });

    const first = await unary(call().listChanges, { namespaceId: ns, afterCursor: 0, limit: 2 }, as(alice));
    expect(first).toMatchObject({ cursor: 2, hasMore: true });
    const rest = await unary(
      call().listChanges,
      { namespaceId: ns, afterCursor: first.cursor, limit: 2 },
      as(alice),
    );
    expect(rest.entries.map((entry) => entry.seq)).toEqual([3]);
    expect(rest).toMatchObject({ cursor: 3, hasMore: false });
    expect(
      await statusOf(unary(call().listChanges, { namespaceId: ns, afterCursor: 0, limit: 1001 }, as(alice))),
    ).toBe('INVALID_ARGUMENT');
  });

  test('FindMissingBlocks: the unknown hashes in request order; malformed hashes rejected', async () => {
    const hashes = ['f'.repeat(64), 'e'.repeat(64)];
    const answer = await unary(
      call().findMissingBlocks,
      { namespaceId: alice.rootNamespaceId, blockHashes: hashes },
      as(alice),
    );
    expect(answer.missingBlockHashes).toEqual(hashes);
    expect(
      await statusOf(
        unary(
          call().findMissingBlocks,
          { namespaceId: alice.rootNamespaceId, blockHashes: ['XYZ'] },
          as(alice),
        ),
      ),
    ).toBe('INVALID_ARGUMENT');
  });

  test('Follow and Unfollow: idempotent, for paths of the caller’s namespaces only', async () => {
    const ns = alice.rootNamespaceId;
    await unary(call().follow, { namespaceId: ns, path: 'docs' }, as(alice));
    await unary(call().follow, { namespaceId: ns, path: 'docs' }, as(alice));
    await unary(call().follow, { namespaceId: ns, path: '' }, as(alice));
    await unary(call().unfollow, { namespaceId: ns, path: 'docs' }, as(alice));
    await unary(call().unfollow, { namespaceId: ns, path: 'docs' }, as(alice));
    await unary(call().unfollow, { namespaceId: ns, path: '' }, as(alice));
    expect({
      follow: await statusOf(unary(call().follow, { namespaceId: ns, path: 'docs' }, as(bob))),
      unfollow: await statusOf(unary(call().unfollow, { namespaceId: ns, path: 'docs' }, as(bob))),
      badPath: await statusOf(unary(call().follow, { namespaceId: ns, path: '../up' }, as(alice))),
    }).toEqual({ follow: 'PERMISSION_DENIED', unfollow: 'PERMISSION_DENIED', badPath: 'INVALID_ARGUMENT' });
  });

  test('CommitFiles: per-call rules (empty, duplicate paths) are INVALID_ARGUMENT, a malformed change is rejected alone', async () => {
    const ns = alice.rootNamespaceId;
    const badHash = {
      ...change('bad.txt'),
      content: { contentHash: HASH, size: 1, blockHashes: ['nothex'] },
    };
    expect({
      empty: await statusOf(
        unary(call().commitFiles, { confirmMassDelete: false, namespaceId: ns, changes: [] }, as(alice)),
      ),
      duplicate: await statusOf(
        unary(
          call().commitFiles,
          { confirmMassDelete: false, namespaceId: ns, changes: [change('d.txt'), change('d.txt')] },
          as(alice),
        ),
      ),
      noChange: await statusOf(
        unary(call().commitFile, { confirmMassDelete: false, namespaceId: ns, change: undefined }, as(alice)),
      ),
    }).toEqual({
      empty: 'INVALID_ARGUMENT',
      duplicate: 'INVALID_ARGUMENT',
      noChange: 'INVALID_ARGUMENT',
    });
    // A malformed change is refused for its path alone (issue 6, kind 7).
    const malformed = await unary(
      call().commitFiles,
      { confirmMassDelete: false, namespaceId: ns, changes: [badHash] },
      as(alice),
    );
    expect(malformed.results).toEqual([
      {
        path: 'bad.txt',
        outcome: {
          $case: 'rejected',
          value: {
            reason: metadata.RejectionReason.REJECTION_REASON_INVALID_CHANGE,
            message: expect.stringContaining('block_hashes[0]'),
            clashingPath: '',
          },
        },
      },
    ]);
  });

  test('every RPC: no token is UNAUTHENTICATED, another namespace PERMISSION_DENIED, a bad path INVALID_ARGUMENT', async () => {
    const theirs = bob.rootNamespaceId;
    const mine = alice.rootNamespaceId;
    const rpcs = (session: auth.Session | undefined, namespaceId: string, path: string) => ({
      CommitFile: () =>
        unary(
          call().commitFile,
          { confirmMassDelete: false, namespaceId, change: change(path) },
          as(session),
        ),
      CommitFiles: () =>
        unary(
          call().commitFiles,
          { confirmMassDelete: false, namespaceId, changes: [change(path)] },
          as(session),
        ),
      GetFile: () => unary(call().getFile, { namespaceId, path }, as(session)),
      ListFiles: () => listFiles(session, namespaceId),
      ListVersions: () => unary(call().listVersions, { namespaceId, path }, as(session)),
      DeleteFile: () =>
        unary(
          call().deleteFile,
          { confirmMassDelete: false, namespaceId, path, baseVersion: 1 },
          as(session),
        ),
      Follow: () => unary(call().follow, { namespaceId, path }, as(session)),
      Unfollow: () => unary(call().unfollow, { namespaceId, path }, as(session)),
      ListChanges: () => unary(call().listChanges, { namespaceId, afterCursor: 0, limit: 0 }, as(session)),
      FindMissingBlocks: () =>
        unary(call().findMissingBlocks, { namespaceId, blockHashes: [HASH] }, as(session)),
      // A pack nobody wrote: in the caller's own namespace that is FAILED_PRECONDITION.
      RegisterPacks: () =>
        unary(
          call().registerPacks,
          { namespaceId, packs: [packMessage(buildPack([Buffer.from('never uploaded')]))] },
          as(session),
        ),
      LocateBlocks: () => unary(call().locateBlocks, { namespaceId, blockHashes: [HASH] }, as(session)),
    });
    const statuses = async (calls: Record<string, () => Promise<unknown>>) => {
      const table: Record<string, string> = {};
      for (const [name, send] of Object.entries(calls)) table[name] = await statusOf(send());
      return table;
    };
    const every = (code: string, except: Record<string, string> = {}) => ({
      ...Object.fromEntries(Object.keys(rpcs(undefined, '', '')).map((name) => [name, code])),
      ...except,
    });

    expect(await statuses(rpcs(undefined, mine, 'x.txt'))).toEqual(every('UNAUTHENTICATED'));
    expect(await statuses(rpcs(alice, theirs, 'x.txt'))).toEqual(every('PERMISSION_DENIED'));
    // Path-less RPCs have nothing to reject; CommitFiles rejects the path in its results (kind 7).
    expect(await statuses(rpcs(alice, mine, 'a/../b'))).toEqual(
      every('INVALID_ARGUMENT', {
        ListFiles: 'OK',
        ListChanges: 'OK',
        FindMissingBlocks: 'OK',
        RegisterPacks: 'FAILED_PRECONDITION',
        LocateBlocks: 'OK',
        CommitFiles: 'OK',
      }),
    );
  });
});
