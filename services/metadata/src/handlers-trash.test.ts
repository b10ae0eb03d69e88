// Unit tests of the trash RPCs at the gRPC edge (issue 8): input checks and the mapping to proto,
// with in-memory fakes of the domain ports and a fake call context (no server, no network).
import { metadata } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import type { CallContext, Principal } from '@filesync/server-kit';
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';
import { MetadataService } from './domain/metadata-service';
import { metadataHandlers } from './handlers';
import { NS, committerSetup, contentChange, deleteChange } from './testing/fakes';

const principal: Principal = { userId: 'u1', deviceId: 'd1', email: 'u1@example.com', namespaceIds: [NS] };
const context = { principal: async () => principal, signal: new AbortController().signal } as CallContext;

async function setup() {
  const { store, committer, blocks } = committerSetup();
  const handlers = metadataHandlers(new MetadataService(store, committer, blocks));
  const actor = { userId: 'u1', deviceId: 'd1', email: 'u1@example.com' };
  const paths = ['docs/a', 'docs/b', 'docs/c', 'keep.txt'];
  await committer.commit(
    NS,
    actor,
    paths.map((path) => contentChange(path, 0)),
  );
  await committer.commit(
    NS,
    actor,
    paths.slice(0, 3).map((path) => deleteChange(path, 1)),
    { confirmMassDelete: true },
  );
  return { handlers, store };
}

const listTrash = (request: Partial<metadata.ListTrashRequest>): metadata.ListTrashRequest => ({
  namespaceId: NS,
  pathPrefix: '',
  limit: 0,
  pageToken: '',
  ...request,
});

describe('ListTrash', () => {
  it('pages through the trash with opaque tokens', async () => {
    const { handlers } = await setup();
    const first = await handlers.listTrash(listTrash({ pathPrefix: 'docs', limit: 2 }), context);
    expect(first.entries.map((entry) => entry.path)).toEqual(['docs/a', 'docs/b']);
    expect(first.entries[0]).toMatchObject({ version: 2, deviceId: 'd1', size: 10 });
    expect(first.entries[0]!.expiresAtMs).toBe(first.entries[0]!.deletedAtMs + 30 * 24 * 60 * 60 * 1000);
    const second = await handlers.listTrash(
      listTrash({ pathPrefix: 'docs', limit: 2, pageToken: first.nextPageToken }),
      context,
    );
    expect(second).toMatchObject({ entries: [{ path: 'docs/c' }], nextPageToken: '' });
  });

  it.each([
    ['another namespace', { namespaceId: 'theirs' }, 'permission-denied'],
    ['a path with ..', { pathPrefix: 'docs/../x' }, 'invalid-argument'],
    ['an absolute path', { pathPrefix: '/docs' }, 'invalid-argument'],
    ['a negative limit', { limit: -1 }, 'invalid-argument'],
    ['a limit above the most', { limit: LIMITS.maxTrashPageSize + 1 }, 'invalid-argument'],
    ['a token that is not one', { pageToken: 'not a token' }, 'invalid-argument'],
    [
      'a token of another prefix',
      { pathPrefix: 'docs', pageToken: Buffer.from('{"after":"zzz"}').toString('base64url') },
      'invalid-argument',
    ],
  ])('refuses %s', async (_, request, kind) => {
    const { handlers } = await setup();
    expect((await domainErrorRejectedBy(handlers.listTrash(listTrash(request), context))).kind).toBe(kind);
  });
});

describe('RestoreFiles', () => {
  it('answers one result per file, restored or refused with its reason', async () => {
    const { handlers } = await setup();
    const response = await handlers.restoreFiles(
      { namespaceId: NS, paths: ['docs', 'keep.txt'], pageToken: '' },
      context,
    );
    expect(response.nextPageToken).toBe('');
    expect(response.results.map((result) => [result.path, result.outcome?.$case])).toEqual([
      ['docs/a', 'restored'],
      ['docs/b', 'restored'],
      ['docs/c', 'restored'],
      ['keep.txt', 'refused'],
    ]);
    expect(response.results[0]).toMatchObject({
      fromVersion: 1,
      outcome: { value: { path: 'docs/a', version: 3, deleted: false } },
    });
    expect(response.results[3]!.outcome).toMatchObject({
      value: { reason: metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_LIVE },
    });
  });

  it.each([
    ['another namespace', { namespaceId: 'theirs' }, 'permission-denied'],
    ['no paths', { paths: [] }, 'invalid-argument'],
    [
      'too many paths',
      { paths: Array.from({ length: LIMITS.maxPathsPerRestore + 1 }, (_, i) => `f${i}`) },
      'invalid-argument',
    ],
    ['a path below another', { paths: ['docs', 'docs/a'] }, 'invalid-argument'],
    ['a path named twice', { paths: ['docs', 'docs'] }, 'invalid-argument'],
    ['a NUL in a path', { paths: ['a\u0000b'] }, 'invalid-argument'],
    ['the namespace root', { paths: [''] }, 'invalid-argument'],
    ['a token that is not one', { pageToken: '%%%' }, 'invalid-argument'],
    [
      'a token of other paths',
      { pageToken: Buffer.from('{"index":3,"after":"docs/a"}').toString('base64url') },
      'invalid-argument',
    ],
  ])('refuses %s, changing nothing', async (_, request, kind) => {
    const { handlers, store } = await setup();
    const transactions = store.transactions.length;
    const error = await domainErrorRejectedBy(
      handlers.restoreFiles({ namespaceId: NS, paths: ['docs'], pageToken: '', ...request }, context),
    );
    expect(error.kind).toBe(kind);
    expect(store.transactions).toHaveLength(transactions);
  });
});

describe('RestoreVersion', () => {
  it('commits the version on top and answers the new entry', async () => {
    const { handlers } = await setup();
    const response = await handlers.restoreVersion(
      { namespaceId: NS, path: 'docs/a', version: 1, baseVersion: 2 },
      context,
    );
    expect(response.entry).toMatchObject({ path: 'docs/a', version: 3, deleted: false });
  });

  it.each([
    ['another namespace', { namespaceId: 'theirs' }, 'permission-denied'],
    ['version 0', { version: 0 }, 'invalid-argument'],
    ['a negative version', { version: -2 }, 'invalid-argument'],
    ['a negative base version', { baseVersion: -1 }, 'invalid-argument'],
    ['a bad path', { path: 'a//b' }, 'invalid-argument'],
    ['a version that never was', { version: 7 }, 'not-found'],
  ])('refuses %s', async (_, request, kind) => {
    const { handlers } = await setup();
    const error = await domainErrorRejectedBy(
      handlers.restoreVersion(
        { namespaceId: NS, path: 'docs/a', version: 1, baseVersion: 0, ...request },
        context,
      ),
    );
    expect(error.kind).toBe(kind);
  });
});

describe('ListVersions', () => {
  it('says when each superseded version expires, 0 for the current one', async () => {
    const { handlers } = await setup();
    const response = await handlers.listVersions({ namespaceId: NS, path: 'docs/a' }, context);
    expect(response.versions.map((version) => version.version)).toEqual([2, 1]);
    expect(response.expiresAtMs).toEqual([0, 5_000 + 30 * 24 * 60 * 60 * 1000]);
  });
});
