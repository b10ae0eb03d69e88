import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { callMetadata, type auth, type metadata, type syncdiff } from '@filesync/contracts';
import { contentHash } from '@filesync/sync-core';
import {
  CALL_TIMEOUT_MS,
  callError,
  collect,
  connectStubs,
  deadline,
  EMPTY_CONTENT,
  exchange,
  expectedTable,
  signUp,
  statusTable,
  type Stubs,
  TEST_PASSWORD,
  trailer,
  unary,
} from '@filesync/test-support';
import { readTestStack } from './support/harness';
import { expiredToken, forgedToken } from './support/tokens';

// Real services and emulators: calls take seconds, not the unit tier's milliseconds.

const stack = readTestStack();

// Bad input answered with the documented status, and nothing changed: driven through the
// generated stubs only, as a native client would.
describe('bad input is rejected', () => {
  let stubs: Stubs;
  let alice: auth.Session;
  let bob: auth.Session;

  const as = (session: auth.Session) => ({ timeoutMs: CALL_TIMEOUT_MS, accessToken: session.accessToken });
  const commit = (
    session: auth.Session,
    change: Partial<metadata.FileChange> | undefined,
    namespaceId?: string,
  ) =>
    unary(
      stubs.metadata.commitFile.bind(stubs.metadata),
      {
        confirmMassDelete: false,
        namespaceId: namespaceId ?? session.rootNamespaceId,
        change: change && {
          path: '',
          baseVersion: 0,
          content: EMPTY_CONTENT,
          delete: false,
          moveFrom: '',
          moveFromBaseVersion: 0,
          modifiedAtMs: Date.now(),
          ...change,
        },
      },
      as(session),
    );
  const getFile = (session: auth.Session, path: string, namespaceId = session.rootNamespaceId) =>
    unary(stubs.metadata.getFile.bind(stubs.metadata), { namespaceId, path }, as(session));
  const listFiles = (session: auth.Session, namespaceId = session.rootNamespaceId) =>
    collect(
      stubs.metadata.listFiles(
        { namespaceId, includeDeleted: true, pathPrefix: '', startAfter: '' },
        callMetadata(session.accessToken),
        deadline(),
      ),
    ).then((pages) => pages.flatMap((page) => page.entries));
  const journal = (session: auth.Session) =>
    unary(
      stubs.metadata.listChanges.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, afterCursor: 0, limit: 0 },
      as(session),
    );
  const diff = (session: auth.Session, requests: syncdiff.DiffRequest[]) =>
    exchange(stubs.syncDiff.diff(callMetadata(session.accessToken), deadline()), requests);

  beforeAll(async () => {
    stubs = connectStubs(stack);
    [alice, bob] = await Promise.all([signUp(stubs, 'alice'), signUp(stubs, 'bob')]);
  });

  afterAll(() => stubs?.close());

  test('paths with "..", absolute paths and NUL are INVALID_ARGUMENT and commit nothing', async () => {
    const before = await journal(alice);
    const badPaths = [
      '../escape.txt',
      'a/../../escape.txt',
      '..',
      '/etc/passwd',
      'a\u0000b.txt',
      '',
      'a//b.txt',
      './a.txt',
    ];
    const manifestEntry = {
      contentHash: EMPTY_CONTENT.contentHash,
      size: 0,
      baseVersion: 0,
      baseContentHash: '',
      deleted: false,
    };
    const calls = badPaths.flatMap((path) => [
      [`CommitFile ${JSON.stringify(path)}`, () => commit(alice, { path })] as const,
      [`GetFile ${JSON.stringify(path)}`, () => getFile(alice, path)] as const,
      [
        `Diff ${JSON.stringify(path)}`,
        () =>
          diff(alice, [
            {
              message: {
                $case: 'start',
                value: {
                  namespaceId: alice.rootNamespaceId,
                  sinceCursor: 0,
                  remoteRoot: '',
                  resumeAfter: '',
                },
              },
            },
            { message: { $case: 'entry', value: { ...manifestEntry, path } } },
          ]),
      ] as const,
    ]);
    expect(await statusTable(calls)).toEqual(expectedTable(calls, 'INVALID_ARGUMENT'));

    expect(await listFiles(alice)).toEqual([]);
    expect((await journal(alice)).cursor).toBe(before.cursor);
  });

  test('malformed requests are INVALID_ARGUMENT', async () => {
    const notHex = 'z'.repeat(64);
    const cases: Array<[string, () => Promise<unknown>]> = [
      [
        'sign-up with a malformed email',
        () =>
          unary(
            stubs.auth.signUp.bind(stubs.auth),
            { email: 'not an email', password: TEST_PASSWORD, deviceName: 'x' },
            { timeoutMs: CALL_TIMEOUT_MS },
          ),
      ],
      ['commit without a change', () => commit(alice, undefined)],
      ['commit without content', () => commit(alice, { path: 'no-content.txt', content: undefined })],
      [
        'commit with a content hash that is not hex',
        () => commit(alice, { path: 'bad-hash.txt', content: { ...EMPTY_CONTENT, contentHash: notHex } }),
      ],
      [
        'commit with a malformed block hash',
        () =>
          commit(alice, {
            path: 'bad-block.txt',
            content: { contentHash: contentHash([]), size: 1, blockHashes: ['abc'] },
          }),
      ],
      [
        'commit whose content hash does not match its blocks',
        () =>
          commit(alice, {
            path: 'mismatch.txt',
            content: { ...EMPTY_CONTENT, contentHash: contentHash([randomHash()]) },
          }),
      ],
      ['commit with a negative base version', () => commit(alice, { path: 'negative.txt', baseVersion: -1 })],
      [
        'find missing blocks with a malformed hash',
        () =>
          unary(
            stubs.syncDiff.findMissingBlocks.bind(stubs.syncDiff),
            { namespaceId: alice.rootNamespaceId, blockHashes: [notHex] },
            as(alice),
          ),
      ],
      [
        'a diff that does not open with start',
        () =>
          diff(alice, [
            {
              message: {
                $case: 'entry',
                value: {
                  path: 'a.txt',
                  contentHash: '',
                  size: 0,
                  baseVersion: 0,
                  baseContentHash: '',
                  deleted: false,
                },
              },
            },
          ]),
      ],
    ];
    expect(await statusTable(cases)).toEqual(expectedTable(cases, 'INVALID_ARGUMENT'));
    expect(await listFiles(alice)).toEqual([]);
  });

  test('missing, expired and forged tokens are UNAUTHENTICATED', async () => {
    const expired = await expiredToken(alice.accessToken, stack.signingKeyFile);
    const forged = await forgedToken(alice.accessToken);
    for (const [what, accessToken] of [
      ['no token', undefined],
      ['garbage', 'not-a-jwt'],
      ['expired', expired],
      ['forged', forged],
    ] as const) {
      const settings = { timeoutMs: CALL_TIMEOUT_MS, accessToken };
      const calls: Array<[string, () => Promise<unknown>]> = [
        [
          'metadata.GetFile',
          () =>
            unary(
              stubs.metadata.getFile.bind(stubs.metadata),
              { namespaceId: alice.rootNamespaceId, path: 'a.txt' },
              settings,
            ),
        ],
        [
          'metadata.CommitFile',
          () =>
            unary(
              stubs.metadata.commitFile.bind(stubs.metadata),
              {
                confirmMassDelete: false,
                namespaceId: alice.rootNamespaceId,
                change: {
                  path: 'a.txt',
                  baseVersion: 0,
                  content: EMPTY_CONTENT,
                  delete: false,
                  moveFrom: '',
                  moveFromBaseVersion: 0,
                  modifiedAtMs: 0,
                },
              },
              settings,
            ),
        ],
        [
          'sync-diff.FindMissingBlocks',
          () =>
            unary(
              stubs.syncDiff.findMissingBlocks.bind(stubs.syncDiff),
              { namespaceId: alice.rootNamespaceId, blockHashes: [randomHash()] },
              settings,
            ),
        ],
        [
          'notifier.ListDeliveries',
          () => unary(stubs.notifier.listDeliveries.bind(stubs.notifier), { limit: 0 }, settings),
        ],
        [
          'auth.GetStorageCredentials',
          () => unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, settings),
        ],
      ];
      expect({ what, outcome: await statusTable(calls) }).toEqual({
        what,
        outcome: expectedTable(calls, 'UNAUTHENTICATED'),
      });
    }
    expect(await listFiles(alice)).toEqual([]);
  });

  test("another user's namespace is PERMISSION_DENIED", async () => {
    await commit(alice, { path: 'private.txt' });
    const foreign = alice.rootNamespaceId;
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['GetFile', () => getFile(bob, 'private.txt', foreign)],
      ['ListFiles', () => listFiles(bob, foreign)],
      ['CommitFile', () => commit(bob, { path: 'private.txt', baseVersion: 1 }, foreign)],
      ['CommitFile of a new path', () => commit(bob, { path: 'planted.txt' }, foreign)],
      [
        'DeleteFile',
        () =>
          unary(
            stubs.metadata.deleteFile.bind(stubs.metadata),
            { confirmMassDelete: false, namespaceId: foreign, path: 'private.txt', baseVersion: 1 },
            as(bob),
          ),
      ],
      [
        'Follow',
        () => unary(stubs.metadata.follow.bind(stubs.metadata), { namespaceId: foreign, path: '' }, as(bob)),
      ],
      [
        'ListVersions',
        () =>
          unary(
            stubs.metadata.listVersions.bind(stubs.metadata),
            { namespaceId: foreign, path: 'private.txt' },
            as(bob),
          ),
      ],
      [
        'ListChanges',
        () =>
          unary(
            stubs.metadata.listChanges.bind(stubs.metadata),
            { namespaceId: foreign, afterCursor: 0, limit: 0 },
            as(bob),
          ),
      ],
      [
        'sync-diff FindMissingBlocks',
        () =>
          unary(
            stubs.syncDiff.findMissingBlocks.bind(stubs.syncDiff),
            { namespaceId: foreign, blockHashes: [randomHash()] },
            as(bob),
          ),
      ],
      [
        'sync-diff Diff',
        () =>
          diff(bob, [
            {
              message: {
                $case: 'start',
                value: { namespaceId: foreign, sinceCursor: 0, remoteRoot: '', resumeAfter: '' },
              },
            },
          ]),
      ],
    ];
    expect(await statusTable(calls)).toEqual(expectedTable(calls, 'PERMISSION_DENIED'));
    const files = await listFiles(alice);
    expect(files.map((entry) => [entry.path, entry.version, entry.deleted])).toEqual([
      ['private.txt', 1, false],
    ]);
  });

  test('a stale base version is FAILED_PRECONDITION naming the current version', async () => {
    const first = await commit(alice, { path: 'stale.txt' });
    expect(first.entry?.version).toBe(1);
    await commit(alice, { path: 'stale.txt', baseVersion: 1, modifiedAtMs: Date.now() });

    const error = await callError(commit(alice, { path: 'stale.txt', baseVersion: 1 }));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(trailer(error, 'filesync-current-version')).toBe('2');

    const fresh = await callError(commit(alice, { path: 'stale.txt', baseVersion: 0 }));
    expect(fresh.code).toBe(status.FAILED_PRECONDITION);
    expect((await getFile(alice, 'stale.txt')).entry?.version).toBe(2);
  });

  test('a commit naming blocks that are not stored is FAILED_PRECONDITION listing them', async () => {
    const blocks = [randomHash(), randomHash()];
    const error = await callError(
      commit(alice, {
        path: 'phantom.bin',
        content: { contentHash: contentHash(blocks), size: 2 * 1024 * 1024, blockHashes: blocks },
      }),
    );
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(trailer(error, 'filesync-missing-blocks')?.split(',').sort()).toEqual([...blocks].sort());
    expect((await callError(getFile(alice, 'phantom.bin'))).code).toBe(status.NOT_FOUND);
  });
});

function randomHash(): string {
  return randomBytes(32).toString('hex');
}
