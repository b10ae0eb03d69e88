import { randomBytes } from 'node:crypto';
import { callMetadata, syncdiff, type auth, type common, type metadata } from '@filesync/contracts';
import { blockHash, contentHash } from '@filesync/sync-core';
import {
  as,
  connectStubs,
  deadline,
  exchange,
  signUp,
  statusOf,
  storeBlocks,
  type Stubs,
  TEST_PASSWORD,
  unary,
} from '@filesync/test-support';
import { readTestStack } from './support/harness';

// The incremental Diff (since_cursor > 0) against the real stack: sync-diff reads metadata's
// journal and current entries (DynamoDB Local), driven through the generated stubs only. A second
// device of the same account changes the namespace with CommitFiles; the first device then asks
// what changed since its cursor.

const stack = readTestStack();
const { ActionKind } = syncdiff;

describe('incremental Diff', () => {
  let stubs: Stubs;
  let laptop: auth.Session;
  let desktop: auth.Session;
  let namespaceId: string;

  beforeAll(async () => {
    stubs = connectStubs(stack);
    laptop = await signUp(stubs, 'incr');
    const login = await unary(
      stubs.auth.login.bind(stubs.auth),
      { email: laptop.email, password: TEST_PASSWORD, deviceName: 'desktop' },
      as(),
    );
    desktop = login.session!;
    namespaceId = laptop.rootNamespaceId;
  });

  afterAll(() => stubs?.close());

  /** New content of one block, stored in the namespace as a client stores it. */
  const stored = async (session: auth.Session): Promise<common.FileContent> => {
    const block = randomBytes(64);
    await storeBlocks(stubs, session, namespaceId, [block]);
    const blockHashes = [blockHash(block)];
    return { contentHash: contentHash(blockHashes), size: block.byteLength, blockHashes };
  };

  const commit = async (session: auth.Session, changes: Partial<metadata.FileChange>[]) => {
    const response = await unary(
      stubs.metadata.commitFiles.bind(stubs.metadata),
      {
        namespaceId,
        changes: changes.map((change) => ({
          path: '',
          baseVersion: 0,
          content: undefined,
          delete: false,
          moveFrom: '',
          moveFromBaseVersion: 0,
          modifiedAtMs: 1_700_000_000_000,
          ...change,
        })),
        confirmMassDelete: false,
      },
      as(session),
    );
    expect(response.results.map((result) => result.outcome?.$case)).toEqual(changes.map(() => 'committed'));
    return response;
  };

  const diff = (session: auth.Session, sinceCursor: number, entries: syncdiff.ManifestEntry[] = []) =>
    exchange(stubs.syncDiff.diff(callMetadata(session.accessToken), deadline()), [
      { message: { $case: 'start', value: { namespaceId, sinceCursor, remoteRoot: '', resumeAfter: '' } } },
      ...entries.map((value) => ({ message: { $case: 'entry' as const, value } })),
    ]);

  const synced = (path: string, content: common.FileContent, version = 1): syncdiff.ManifestEntry => ({
    path,
    contentHash: content.contentHash,
    size: content.size,
    baseVersion: version,
    baseContentHash: content.contentHash,
    deleted: false,
  });

  const actionsOf = (answers: syncdiff.DiffResponse[]) =>
    answers.flatMap((answer) => (answer.message?.$case === 'action' ? [answer.message.value] : []));
  const summaryOf = (answers: syncdiff.DiffResponse[]) => {
    const last = answers.at(-1)?.message;
    if (last?.$case !== 'summary') throw new Error('the diff did not end with a summary');
    return last.value;
  };

  test("a second device's commits come back as actions since the first device's cursor, then nothing", async () => {
    // The laptop commits four files and runs a full diff: its synced base, and its cursor.
    const [a, b, c, d] = await Promise.all([stored(laptop), stored(laptop), stored(laptop), stored(laptop)]);
    const names = { a: 'a.txt', b: 'b.txt', c: 'c.txt', d: 'd\u00e9j\u00e0/vu.txt' };
    await commit(laptop, [
      { path: names.a, content: a },
      { path: names.b, content: b },
      { path: names.c, content: c },
      { path: names.d, content: d },
    ]);
    const full = await diff(laptop, 0, [
      synced(names.a, a),
      synced(names.b, b),
      synced(names.c, c),
      synced(names.d, d),
    ]);
    expect(actionsOf(full)).toEqual([]);
    const laptopCursor = summaryOf(full).cursor;
    expect(laptopCursor).toBeGreaterThan(0);

    // The desktop edits b, deletes c and adds two files, in two commits.
    const [b2, n1, n2] = await Promise.all([stored(desktop), stored(desktop), stored(desktop)]);
    await commit(desktop, [
      { path: names.b, baseVersion: 1, content: b2 },
      { path: names.c, baseVersion: 1, delete: true },
      { path: 'new.txt', content: n1 },
    ]);
    const { cursor: desktopCursor } = await commit(desktop, [{ path: '\u00fcber/new.txt', content: n2 }]);

    // Meanwhile the laptop edited a and b: it names only those.
    const [a2, bLocal] = await Promise.all([stored(laptop), stored(laptop)]);
    const incremental = await diff(laptop, laptopCursor, [
      { ...synced(names.a, a), contentHash: a2.contentHash, size: a2.size },
      { ...synced(names.b, b), contentHash: bLocal.contentHash, size: bLocal.size },
    ]);

    const actions = actionsOf(incremental);
    expect(actions.map(({ path, kind, baseVersion }) => [path, kind, baseVersion])).toEqual([
      [names.a, ActionKind.ACTION_KIND_UPLOAD, 1],
      [names.b, ActionKind.ACTION_KIND_CONFLICT, 0],
      [names.c, ActionKind.ACTION_KIND_DELETE_LOCAL, 0],
      ['new.txt', ActionKind.ACTION_KIND_DOWNLOAD, 0],
      ['\u00fcber/new.txt', ActionKind.ACTION_KIND_DOWNLOAD, 0],
    ]);
    // Each action carries the current server entry, block list included.
    expect(actions[1]?.serverEntry).toMatchObject({ version: 2, content: b2, deleted: false });
    expect(actions[2]?.serverEntry).toMatchObject({ version: 2, deleted: true });
    expect(actions[3]?.serverEntry).toMatchObject({ version: 1, content: n1 });
    expect(actions[4]?.serverEntry).toMatchObject({ version: 1, content: n2 });
    expect(summaryOf(incremental)).toEqual({
      cursor: desktopCursor,
      entriesReceived: 2,
      actionsSent: 5,
      fullDiffRequired: false,
      incremental: true,
      remoteRoot: '',
      resumeAfter: '',
    });

    // Once caught up, an incremental diff with nothing changed answers nothing and the same cursor.
    const noop = await diff(desktop, desktopCursor);
    expect(noop).toEqual([
      {
        message: {
          $case: 'summary',
          value: {
            cursor: desktopCursor,
            entriesReceived: 0,
            actionsSent: 0,
            fullDiffRequired: false,
            incremental: true,
            remoteRoot: '',
            resumeAfter: '',
          },
        },
      },
    ]);
  });

  test('a cursor ahead of the journal asks for a full diff; a negative one is INVALID_ARGUMENT', async () => {
    const content = await stored(laptop);
    const { cursor } = await commit(laptop, [{ path: 'ahead.txt', content }]);
    expect(summaryOf(await diff(laptop, cursor + 1_000))).toEqual({
      cursor: 0,
      entriesReceived: 0,
      actionsSent: 0,
      fullDiffRequired: true,
      incremental: true,
      remoteRoot: '',
      resumeAfter: '',
    });
    expect(await statusOf(diff(laptop, -1))).toBe('INVALID_ARGUMENT');
  });
});
