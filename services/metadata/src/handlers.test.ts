// Unit tests of the gRPC edge with in-memory fakes of the domain ports and a fake call context
// (no server, no network).
import { metadata } from '@filesync/contracts';
import type { CallContext, Principal } from '@filesync/server-kit';
import { Committer } from './domain/commit';
import { MetadataService } from './domain/metadata-service';
import { metadataHandlers, toResult } from './handlers';
import { blocksSetup, InMemoryStore, NS, contentChange, entry, hashOf } from './testing/fakes';
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';

const principal: Principal = { userId: 'u1', deviceId: 'd1', email: 'u1@example.com', namespaceIds: [NS] };
const context = { principal: async () => principal } as unknown as CallContext;

function setup() {
  const store = new InMemoryStore();
  const { index, blocks } = blocksSetup();
  index.add(NS, hashOf(1));
  const committer = new Committer({ store, blocks, clock: { now: () => 1 } });
  return { store, handlers: metadataHandlers(new MetadataService(store, committer, blocks)) };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const protoChange = (path: string, baseVersion: number): metadata.FileChange => {
  const change = contentChange(path, baseVersion);
  return {
    path,
    baseVersion,
    delete: false,
    moveFrom: '',
    moveFromBaseVersion: 0,
    modifiedAtMs: 1,
    content: { ...change.content!, blockHashes: [...change.content!.blockHashes] },
  };
};

describe('metadata handlers', () => {
  it("denies another user's namespace before looking at the request", async () => {
    const { handlers, store } = setup();
    const error = await domainErrorRejectedBy(
      handlers.commitFile({ confirmMassDelete: false, namespaceId: 'theirs', change: undefined }, context),
    );
    expect(error.kind).toBe('permission-denied');
    expect(store.transactions).toHaveLength(0);
  });

  it('commits a file and answers the entry and cursor', async () => {
    const { handlers } = setup();
    const response = await handlers.commitFile(
      { confirmMassDelete: false, namespaceId: NS, change: protoChange('a', 0) },
      context,
    );
    expect(response).toMatchObject({
      cursor: 1,
      entry: { path: 'a', version: 1, deleted: false, journalSeq: 1 },
    });
  });

  it('streams an empty namespace as one empty page carrying the cursor', async () => {
    const { handlers } = setup();
    expect(
      await collect(
        handlers.listFiles(
          { namespaceId: NS, includeDeleted: false, pathPrefix: '', startAfter: '' },
          context,
        ),
      ),
    ).toEqual([{ entries: [], cursor: 0 }]);
  });

  it('streams pages of the configured size, ordered by path', async () => {
    const { handlers, store } = setup();
    for (let index = 0; index < 1001; index += 1) store.put(entry(`f${String(index).padStart(4, '0')}`, 1));
    const pages = await collect(
      handlers.listFiles({ namespaceId: NS, includeDeleted: true, pathPrefix: '', startAfter: '' }, context),
    );
    expect(pages.map((page) => page.entries.length)).toEqual([500, 500, 1]);
    expect(pages[2]!.entries[0]!.path).toBe('f1000');
  });

  it('reports a delete of a never existing path in a batch as a conflict with version 0', () => {
    expect(toResult(NS, { kind: 'conflict', path: 'x', current: undefined })).toEqual({
      path: 'x',
      outcome: {
        $case: 'conflict',
        value: {
          namespaceId: NS,
          path: 'x',
          version: 0,
          deleted: true,
          content: undefined,
          modifiedAtMs: 0,
          committedAtMs: 0,
          deviceId: '',
          journalSeq: 0,
          movedFrom: '',
          movedTo: '',
        },
      },
    });
  });

  it('answers tombstones without content', async () => {
    const { handlers, store } = setup();
    store.put(entry('gone', 3, true));
    const { entry: answered } = await handlers.getFile({ namespaceId: NS, path: 'gone' }, context);
    expect(answered).toMatchObject({ deleted: true, content: undefined, version: 3 });
  });

  it('kind 7: CommitFiles rejects a bad path or field for that path alone and commits the others', async () => {
    const { handlers, store } = setup();
    const badHash = {
      ...protoChange('bad-hash', 0),
      content: { contentHash: 'x', size: 1, blockHashes: ['zz'] },
    };
    const response = await handlers.commitFiles(
      {
        confirmMassDelete: false,
        namespaceId: NS,
        changes: [protoChange('a', 0), protoChange('../escape', 0), badHash, protoChange('b', 0)],
      },
      context,
    );
    expect(response.results.map((result) => [result.path, result.outcome?.$case])).toEqual([
      ['a', 'committed'],
      ['../escape', 'rejected'],
      ['bad-hash', 'rejected'],
      ['b', 'committed'],
    ]);
    expect(response.results[1]!.outcome).toMatchObject({
      value: { reason: metadata.RejectionReason.REJECTION_REASON_INVALID_PATH, clashingPath: '' },
    });
    expect(response.results[2]!.outcome).toMatchObject({
      value: { reason: metadata.RejectionReason.REJECTION_REASON_INVALID_CHANGE },
    });
    expect(response.cursor).toBe(1);
    expect([...store.files.values()].map((file) => file.path).sort()).toEqual(['a', 'b']);
  });

  it('kind 7: a request of only invalid changes commits nothing and still answers the cursor', async () => {
    const { handlers, store } = setup();
    const response = await handlers.commitFiles(
      { confirmMassDelete: false, namespaceId: NS, changes: [protoChange('/abs', 0)] },
      context,
    );
    expect(response).toMatchObject({
      cursor: 0,
      results: [{ path: '/abs', outcome: { $case: 'rejected' } }],
    });
    expect(store.transactions).toHaveLength(0);
  });

  it('kind 7: a malformed request as a whole stays INVALID_ARGUMENT', async () => {
    const { handlers } = setup();
    const duplicate = await domainErrorRejectedBy(
      handlers.commitFiles(
        { confirmMassDelete: false, namespaceId: NS, changes: [protoChange('a', 0), protoChange('a', 0)] },
        context,
      ),
    );
    expect(duplicate.kind).toBe('invalid-argument');
  });

  it('kind 7: two spellings of one path with one invalid change are INVALID_ARGUMENT and commit nothing', async () => {
    const { handlers, store } = setup();
    const nfc = protoChange('caf\u00e9', 0);
    // Size 0 with a block: the content is invalid, the path is not.
    const nfdBadSize = { ...protoChange('cafe\u0301', 0), content: { ...nfc.content!, size: 0 } };
    const error = await domainErrorRejectedBy(
      handlers.commitFiles(
        { confirmMassDelete: false, namespaceId: NS, changes: [nfc, nfdBadSize] },
        context,
      ),
    );
    expect(error.kind).toBe('invalid-argument');
    expect(error.message).toContain('more than once');
    expect(store.transactions).toHaveLength(0);
  });

  it('kind 4: CommitFile answers a clash with FAILED_PRECONDITION and the clashing path as a trailer', async () => {
    const { handlers } = setup();
    await handlers.commitFile(
      { confirmMassDelete: false, namespaceId: NS, change: protoChange('plän', 0) },
      context,
    );
    const error = await domainErrorRejectedBy(
      handlers.commitFile(
        { confirmMassDelete: false, namespaceId: NS, change: protoChange('plän/ch1.txt', 0) },
        context,
      ),
    );
    expect(error.kind).toBe('failed-precondition');
    expect(error.message).toContain('plän is a file');
    expect(error.details).toEqual({ 'clashing-path': encodeURIComponent('plän') });
  });

  it('kind 2: DeleteFile of every live file answers FAILED_PRECONDITION unless confirmed', async () => {
    const { handlers, store } = setup();
    await handlers.commitFile(
      { confirmMassDelete: false, namespaceId: NS, change: protoChange('only', 0) },
      context,
    );
    const refused = await domainErrorRejectedBy(
      handlers.deleteFile(
        { confirmMassDelete: false, namespaceId: NS, path: 'only', baseVersion: 1 },
        context,
      ),
    );
    expect(refused.kind).toBe('failed-precondition');
    expect(refused.details).toEqual({ 'mass-delete': 'confirm_mass_delete' });
    expect(store.files.get(`${NS}\u0000only`)?.deleted).toBe(false);
    const confirmed = await handlers.deleteFile(
      { confirmMassDelete: true, namespaceId: NS, path: 'only', baseVersion: 1 },
      context,
    );
    expect(confirmed.entry).toMatchObject({ path: 'only', deleted: true, version: 2 });
  });

  it('kind 10: ListFiles pages also end at a byte budget, so files of many blocks fit in messages', async () => {
    const { handlers, store } = setup();
    const blockHashes = Array.from({ length: 10_000 }, (_, index) => hashOf(index));
    for (const path of ['a', 'b', 'c', 'd', 'e']) {
      store.put({ ...entry(path, 1), content: { contentHash: 'h', size: 10_000, blockHashes } });
    }
    const pages = await collect(
      handlers.listFiles({ namespaceId: NS, includeDeleted: false, pathPrefix: '', startAfter: '' }, context),
    );
    expect(pages.map((page) => page.entries.length)).toEqual([3, 2]);
    expect(pages.flatMap((page) => page.entries.map((file) => file.content!.blockHashes.length))).toEqual(
      Array(5).fill(10_000),
    );
  });

  it('GetFiles answers the entries of the paths asked, tombstones included, in request order', async () => {
    const { handlers, store } = setup();
    store.put(entry('b', 2));
    store.put(entry('a', 3, true));
    const response = await handlers.getFiles({ namespaceId: NS, paths: ['b', 'never', 'a'] }, context);
    expect(response.pathsAnswered).toBe(3);
    expect(response.entries.map((file) => [file.path, file.version, file.deleted])).toEqual([
      ['b', 2, false],
      ['a', 3, true],
    ]);
  });

  it('GetFiles answers a prefix when block lists would not fit one message', async () => {
    const { handlers, store } = setup();
    const blockHashes = Array.from({ length: 10_000 }, (_, index) => hashOf(index));
    const paths = ['a', 'b', 'c', 'd', 'e'];
    for (const path of paths) {
      store.put({ ...entry(path, 1), content: { contentHash: 'h', size: 10_000, blockHashes } });
    }
    const first = await handlers.getFiles({ namespaceId: NS, paths }, context);
    expect(first.pathsAnswered).toBe(3);
    expect(first.entries.map((file) => file.path)).toEqual(['a', 'b', 'c']);
    const rest = await handlers.getFiles({ namespaceId: NS, paths: paths.slice(3) }, context);
    expect(rest.entries.map((file) => file.path)).toEqual(['d', 'e']);
  });

  it('GetFiles refuses bad input with INVALID_ARGUMENT and another namespace with PERMISSION_DENIED', async () => {
    const { handlers } = setup();
    const kind = async (request: metadata.GetFilesRequest) =>
      (await domainErrorRejectedBy(handlers.getFiles(request, context))).kind;
    expect(await kind({ namespaceId: NS, paths: ['../etc/passwd'] })).toBe('invalid-argument');
    expect(await kind({ namespaceId: NS, paths: ['a', 'a'] })).toBe('invalid-argument');
    expect(await kind({ namespaceId: NS, paths: Array.from({ length: 1001 }, (_, i) => `f${i}`) })).toBe(
      'invalid-argument',
    );
    expect(await kind({ namespaceId: 'theirs', paths: ['a'] })).toBe('permission-denied');
  });
});
