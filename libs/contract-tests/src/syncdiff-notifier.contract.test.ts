import { callMetadata, syncdiff, type auth } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import {
  as,
  connectStubs,
  deadline,
  EMPTY_CONTENT,
  exchange,
  signUp,
  statusOf,
  type Stubs,
  unary,
} from '@filesync/test-support';
import { readContractStack } from './support/harness';

const OTHER_HASH = 'b'.repeat(64);
const { ActionKind } = syncdiff;

// SyncDiffService and NotifierService on the wire.
describe('SyncDiffService (sync-diff image)', () => {
  const stack = readContractStack();
  let stubs: Stubs;
  let alice: auth.Session;
  let bob: auth.Session;

  const start = (namespaceId: string): syncdiff.DiffRequest => ({
    message: { $case: 'start', value: { namespaceId, sinceCursor: 0, remoteRoot: '', resumeAfter: '' } },
  });
  const entry = (value: Partial<syncdiff.ManifestEntry> & { path: string }): syncdiff.DiffRequest => ({
    message: {
      $case: 'entry',
      value: { contentHash: '', size: 0, baseVersion: 0, baseContentHash: '', deleted: false, ...value },
    },
  });
  /** Manifest entries in one `entries` message, as filesync sends them. */
  const entries = (...requests: syncdiff.DiffRequest[]): syncdiff.DiffRequest => ({
    message: {
      $case: 'entries',
      value: {
        entries: requests.map((request) => request.message!.value as syncdiff.ManifestEntry),
      },
    },
  });
  const diff = (session: auth.Session | undefined, requests: syncdiff.DiffRequest[]) =>
    exchange(stubs.syncDiff.diff(callMetadata(session?.accessToken), deadline()), requests);

  beforeAll(async () => {
    stubs = connectStubs(stack);
    [alice, bob] = await Promise.all([signUp(stubs, 'diff-alice'), signUp(stubs, 'diff-bob')]);
    const ns = alice.rootNamespaceId;
    const commit = (path: string, baseVersion = 0, remove = false) =>
      unary(
        stubs.metadata.commitFile.bind(stubs.metadata),
        {
          confirmMassDelete: false,
          namespaceId: ns,
          change: {
            path,
            baseVersion,
            content: EMPTY_CONTENT,
            delete: remove,
            modifiedAtMs: 1,
            moveFrom: '',
            moveFromBaseVersion: 0,
          },
        },
        as(alice),
      );
    await commit('same.txt');
    await commit('server-newer.txt');
    await commit('server-newer.txt', 1);
    await commit('gone-on-server.txt');
    await commit('gone-on-server.txt', 1, true);
    await commit('delete-me.txt');
  });

  afterAll(() => stubs?.close());

  // DOWNLOAD and CONFLICT need content on both sides: journey.contract.test.ts shows them.
  test('Diff: one action per path that needs work, then the summary with the cursor', async () => {
    const answers = await diff(alice, [
      start(alice.rootNamespaceId),
      // Sorted by path, as Diff requires.
      // Deleted locally, unchanged on the server.
      entry({
        path: 'delete-me.txt',
        baseVersion: 1,
        baseContentHash: EMPTY_CONTENT.contentHash,
        deleted: true,
      }),
      // Deleted on the server, unchanged locally.
      entry({
        path: 'gone-on-server.txt',
        contentHash: EMPTY_CONTENT.contentHash,
        baseVersion: 1,
        baseContentHash: EMPTY_CONTENT.contentHash,
      }),
      // New locally.
      entry({ path: 'new.txt', contentHash: OTHER_HASH, size: 3 }),
      // In sync: nothing to say.
      entry({
        path: 'same.txt',
        contentHash: EMPTY_CONTENT.contentHash,
        baseVersion: 1,
        baseContentHash: EMPTY_CONTENT.contentHash,
      }),
      // Version 2 on the server with the content the client already has: record the version.
      entry({
        path: 'server-newer.txt',
        contentHash: EMPTY_CONTENT.contentHash,
        baseVersion: 1,
        baseContentHash: EMPTY_CONTENT.contentHash,
      }),
    ]);
    const summary = answers.at(-1)?.message;
    const actions = answers.slice(0, -1).map((answer) => answer.message?.value as syncdiff.DiffAction);
    expect(
      Object.fromEntries(actions.map((action) => [action.path, [action.kind, action.baseVersion]])),
    ).toEqual({
      'server-newer.txt': [ActionKind.ACTION_KIND_RECORD, expect.any(Number)],
      'gone-on-server.txt': [ActionKind.ACTION_KIND_DELETE_LOCAL, expect.any(Number)],
      'delete-me.txt': [ActionKind.ACTION_KIND_DELETE_REMOTE, 1],
      'new.txt': [ActionKind.ACTION_KIND_UPLOAD, 0],
    });
    expect(actions.find((action) => action.path === 'server-newer.txt')?.serverEntry?.version).toBe(2);
    expect(summary).toEqual({
      $case: 'summary',
      value: {
        cursor: 6,
        entriesReceived: 5,
        actionsSent: 4,
        fullDiffRequired: false,
        incremental: false,
        remoteRoot: '',
        resumeAfter: '',
      },
    });
  });

  test('Diff with a remote_root: only the paths below it, echoed in the summary; a root that is a file or a path outside it is refused', async () => {
    const carol = await signUp(stubs, 'diff-carol');
    const ns = carol.rootNamespaceId;
    for (const path of ['Photos/a.jpg', 'Photos2/b.jpg', 'Photos.txt']) {
      await unary(
        stubs.metadata.commitFile.bind(stubs.metadata),
        {
          confirmMassDelete: false,
          namespaceId: ns,
          change: {
            path,
            baseVersion: 0,
            content: EMPTY_CONTENT,
            delete: false,
            modifiedAtMs: 1,
            moveFrom: '',
            moveFromBaseVersion: 0,
          },
        },
        as(carol),
      );
    }
    const rooted = (remoteRoot: string): syncdiff.DiffRequest => ({
      message: { $case: 'start', value: { namespaceId: ns, sinceCursor: 0, remoteRoot, resumeAfter: '' } },
    });
    const answers = await diff(carol, [
      rooted('Photos'),
      entry({ path: 'Photos/new.jpg', contentHash: OTHER_HASH, size: 3 }),
    ]);
    const actions = answers.slice(0, -1).map((answer) => answer.message?.value as syncdiff.DiffAction);
    expect(actions.map((action) => [action.path, action.kind])).toEqual([
      ['Photos/a.jpg', ActionKind.ACTION_KIND_DOWNLOAD],
      ['Photos/new.jpg', ActionKind.ACTION_KIND_UPLOAD],
    ]);
    expect(answers.at(-1)?.message).toMatchObject({
      $case: 'summary',
      value: { remoteRoot: 'Photos', cursor: 3 },
    });
    expect({
      rootIsAFile: await statusOf(diff(carol, [rooted('Photos.txt')])),
      entryOutside: await statusOf(diff(carol, [rooted('Photos'), entry({ path: 'Photos2/b.jpg' })])),
      notCanonical: await statusOf(diff(carol, [rooted('/Photos')])),
    }).toEqual({
      rootIsAFile: 'FAILED_PRECONDITION',
      entryOutside: 'INVALID_ARGUMENT',
      notCanonical: 'INVALID_ARGUMENT',
    });
  });

  test('Diff: no token, another namespace, no `start` first, or entries out of order are rejected with the documented codes', async () => {
    expect({
      noToken: await statusOf(diff(undefined, [start(alice.rootNamespaceId)])),
      otherNamespace: await statusOf(diff(alice, [start(bob.rootNamespaceId)])),
      entryFirst: await statusOf(diff(alice, [entry({ path: 'x' })])),
      twoStarts: await statusOf(diff(alice, [start(alice.rootNamespaceId), start(alice.rootNamespaceId)])),
      outOfOrder: await statusOf(
        diff(alice, [start(alice.rootNamespaceId), entry({ path: 'b' }), entry({ path: 'a' })]),
      ),
    }).toEqual({
      noToken: 'UNAUTHENTICATED',
      otherNamespace: 'PERMISSION_DENIED',
      entryFirst: 'INVALID_ARGUMENT',
      twoStarts: 'INVALID_ARGUMENT',
      outOfOrder: 'INVALID_ARGUMENT',
    });
  });

  test('Diff: manifest entries batched in `entries` messages get the answers they get one by one; an empty, out-of-order or oversized batch is INVALID_ARGUMENT', async () => {
    const ns = alice.rootNamespaceId;
    const manifest = [
      entry({ path: 'a-new.txt', contentHash: OTHER_HASH, size: 3 }),
      entry({ path: 'b-new.txt', contentHash: OTHER_HASH, size: 3 }),
      entry({
        path: 'same.txt',
        contentHash: EMPTY_CONTENT.contentHash,
        baseVersion: 1,
        baseContentHash: EMPTY_CONTENT.contentHash,
      }),
      entry({ path: 'z-new.txt', contentHash: OTHER_HASH, size: 3 }),
    ];
    const single = await diff(alice, [start(ns), ...manifest]);
    // A full diff: the new paths are uploads, and the server's other paths come down too.
    const uploads = single
      .map((answer) => answer.message?.value as syncdiff.DiffAction)
      .filter((action) => action.kind === ActionKind.ACTION_KIND_UPLOAD)
      .map((action) => action.path);
    expect(uploads).toEqual(['a-new.txt', 'b-new.txt', 'z-new.txt']);
    expect(single.at(-1)?.message?.$case).toBe('summary');
    expect(await diff(alice, [start(ns), entries(...manifest.slice(0, 3)), entries(manifest[3]!)])).toEqual(
      single,
    );
    expect({
      empty: await statusOf(
        diff(alice, [start(ns), { message: { $case: 'entries', value: { entries: [] } } }]),
      ),
      outOfOrder: await statusOf(diff(alice, [start(ns), entries(manifest[1]!, manifest[0]!)])),
      // Refused before it is decoded (services/sync-diff/src/request-guard.ts).
      tooMany: await statusOf(
        diff(alice, [
          start(ns),
          entries(
            ...Array.from({ length: LIMITS.maxManifestEntriesPerMessage + 1 }, (_, index) =>
              entry({ path: `many/${String(index).padStart(6, '0')}` }),
            ),
          ),
        ]),
      ),
    }).toEqual({ empty: 'INVALID_ARGUMENT', outOfOrder: 'INVALID_ARGUMENT', tooMany: 'INVALID_ARGUMENT' });
  });

  test('FindMissingBlocks: unknown hashes in request order; bad input rejected', async () => {
    const find = (session: auth.Session | undefined, namespaceId: string, blockHashes: string[]) =>
      unary(stubs.syncDiff.findMissingBlocks.bind(stubs.syncDiff), { namespaceId, blockHashes }, as(session));
    const hashes = ['c'.repeat(64), 'd'.repeat(64)];
    expect((await find(alice, alice.rootNamespaceId, hashes)).missingBlockHashes).toEqual(hashes);
    expect({
      noToken: await statusOf(find(undefined, alice.rootNamespaceId, hashes)),
      otherNamespace: await statusOf(find(alice, bob.rootNamespaceId, hashes)),
      malformed: await statusOf(find(alice, alice.rootNamespaceId, ['not-a-hash'])),
      noNamespace: await statusOf(find(alice, '', hashes)),
    }).toEqual({
      noToken: 'UNAUTHENTICATED',
      otherNamespace: 'PERMISSION_DENIED',
      malformed: 'INVALID_ARGUMENT',
      noNamespace: 'INVALID_ARGUMENT',
    });
  });

  test('NotifierService.ListDeliveries: empty for a new account; limit 1..100; needs a token', async () => {
    const list = (session: auth.Session | undefined, limit: number) =>
      unary(stubs.notifier.listDeliveries.bind(stubs.notifier), { limit }, as(session));
    expect(await list(bob, 0)).toEqual({ deliveries: [] });
    expect(await list(bob, 100)).toEqual({ deliveries: [] });
    expect({
      noToken: await statusOf(list(undefined, 0)),
      tooMany: await statusOf(list(bob, 101)),
      negative: await statusOf(list(bob, -1)),
    }).toEqual({ noToken: 'UNAUTHENTICATED', tooMany: 'INVALID_ARGUMENT', negative: 'INVALID_ARGUMENT' });
  });
});
