// Unit tests with fakes: the incremental merge against FakeNamespace, an in-memory fake of the
// metadata port (src/testing); no network.
import { LIMITS } from '@filesync/resources';
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';
import type { MetadataFile } from '../adapters/metadata-files';
import { FAKE_NS, FakeNamespace, type FakeChange } from '../testing/fake-namespace';
import type { DiffOutput } from './diff';
import { diffSinceCursor } from './incremental';
import { ManifestReader, type ManifestEntryInput } from './manifest';
import type { CallBudget } from './ports';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

const budget: CallBudget = {
  accessToken: 'token-1',
  deadline: new Date(Date.now() + 60_000),
  signal: new AbortController().signal,
};

const put = (path: string, contentHash = A): FakeChange => ({ path, contentHash });
const remove = (path: string): FakeChange => ({ path, deleted: true });

/** A manifest entry: content `contentHash` now, synced at `baseVersion` with `baseContentHash`. */
function local(
  path: string,
  contentHash: string,
  baseVersion = 0,
  baseContentHash = baseVersion > 0 ? A : '',
): ManifestEntryInput {
  return { path, contentHash, size: 1, baseVersion, baseContentHash, deleted: contentHash === '' };
}

function manifestOf(entries: readonly ManifestEntryInput[]): ManifestReader {
  async function* source() {
    yield* entries;
  }
  return new ManifestReader(source());
}

async function run(
  files: FakeNamespace,
  sinceCursor: number,
  entries: readonly ManifestEntryInput[] = [],
): Promise<DiffOutput<MetadataFile>[]> {
  const out: DiffOutput<MetadataFile>[] = [];
  const diff = diffSinceCursor(manifestOf(entries), files, { namespaceId: FAKE_NS, sinceCursor, budget });
  for await (const output of diff) out.push(output);
  return out;
}

/** Actions as [path, kind, base version, server version] and the summary, for compact expectations. */
function brief(outputs: readonly DiffOutput<MetadataFile>[]) {
  return outputs.map((output) =>
    output.type === 'action'
      ? [output.path, output.decision.kind, output.decision.baseVersion, output.decision.server?.version]
      : output,
  );
}

const summary = (cursor: number, entriesReceived: number, actionsSent: number) => ({
  type: 'summary',
  cursor,
  entriesReceived,
  actionsSent,
  fullDiffRequired: false,
});
const fullDiffRequired = (entriesReceived: number) => ({
  type: 'summary',
  cursor: 0,
  entriesReceived,
  actionsSent: 0,
  fullDiffRequired: true,
});

describe('diffSinceCursor', () => {
  it('answers journal paths the manifest does not name: DOWNLOAD when live, DELETE_LOCAL when a tombstone', async () => {
    const files = new FakeNamespace();
    files.commit([put('kept'), put('gone'), put('old')]);
    const cursor = files.head;
    files.commit([put('new', B), remove('gone')]);
    files.commit([put('old', C)]);

    expect(brief(await run(files, cursor))).toEqual([
      ['gone', 'delete-local', 0, 2],
      ['new', 'download', 0, 1],
      ['old', 'download', 0, 2],
      summary(3, 0, 3),
    ]);
    // The whole entry goes to the client, which decides against its own synced base.
    const [gone] = await run(files, cursor);
    expect(gone?.type === 'action' && gone.decision.server?.entry.deleted).toBe(true);
  });

  it('answers a move both of whose paths the manifest leaves out with MOVE_LOCAL and DELETE_LOCAL', async () => {
    const files = new FakeNamespace();
    files.commit([put('docs/a'), put('docs/b'), put('docs/c')]);
    const cursor = files.head;
    const move = (from: string, to: string): FakeChange[] => [
      { path: from, deleted: true, movedTo: to },
      { path: to, contentHash: A, movedFrom: from },
    ];
    files.commit([...move('docs/a', 'new/a'), ...move('docs/b', 'new/b'), ...move('docs/c', 'new/c')]);
    // Moved on again: docs/c's move no longer says where the file is, and the move from new/c
    // (which this client never had) is one it downloads instead.
    files.commit([...move('new/c', 'again/c')]);

    expect(brief(await run(files, cursor, [local('new/b', B)]))).toEqual([
      ['again/c', 'move-local', 0, 1],
      ['docs/a', 'delete-local', 0, 2],
      ['docs/b', 'delete-local', 0, 2],
      ['docs/c', 'delete-local', 0, 2],
      ['new/a', 'move-local', 0, 1],
      // Named by the manifest: decided by the rule, never a move.
      ['new/b', 'conflict', 0, 1],
      ['new/c', 'delete-local', 0, 2],
      summary(3, 1, 7),
    ]);
  });

  it('decides manifest paths the journal does not name against their current entries', async () => {
    const files = new FakeNamespace();
    files.commit([put('edited'), put('deleted-here'), put('unchanged')]);
    const cursor = files.head;

    const outputs = await run(files, cursor, [
      local('brand-new', B),
      local('deleted-here', '', 1),
      local('edited', B, 1),
      local('never-there', '', 0), // created and deleted locally since the cursor: nothing to do
    ]);
    expect(brief(outputs)).toEqual([
      ['brand-new', 'upload', 0, undefined],
      ['deleted-here', 'delete-remote', 1, 1],
      ['edited', 'upload', 1, 1],
      summary(cursor, 4, 3),
    ]);
    // The manifest's paths, not in the journal, were read in one call.
    expect(files.countOf('currentEntries')).toBe(1);
  });

  it('decides a path both sides changed against the journal entry, exactly as the full diff does', async () => {
    const files = new FakeNamespace();
    files.commit([put('both-edited'), put('edited-deleted'), put('deleted-edited'), put('same-edit')]);
    const cursor = files.head;
    files.commit([
      put('both-edited', B),
      remove('edited-deleted'),
      put('deleted-edited', B),
      put('same-edit', C),
    ]);

    const outputs = await run(files, cursor, [
      local('both-edited', C, 1),
      local('deleted-edited', '', 1),
      local('edited-deleted', C, 1),
      local('same-edit', C, 1),
    ]);
    expect(brief(outputs)).toEqual([
      ['both-edited', 'conflict', 0, 2],
      ['deleted-edited', 'download', 0, 2], // an edit wins over a delete
      ['edited-deleted', 'upload', 2, 2], // committed on top of the tombstone
      ['same-edit', 'record', 0, 2],
      summary(2, 4, 4),
    ]);
    // A manifest of one call's worth is read beside the journal, whatever the journal names.
    expect(files.countOf('currentEntries')).toBe(1);
  });

  it('keeps the latest journal entry of a path changed more than once', async () => {
    const files = new FakeNamespace();
    files.commit([put('edited-twice'), put('edited-then-deleted'), put('deleted-then-recreated')]);
    const cursor = files.head;
    files.commit([put('edited-twice', B), remove('deleted-then-recreated')]);
    files.commit([put('edited-twice', C), put('deleted-then-recreated', C), put('edited-then-deleted', B)]);
    files.commit([remove('edited-then-deleted')]);

    const outputs = await run(files, cursor);
    expect(brief(outputs)).toEqual([
      ['deleted-then-recreated', 'download', 0, 3],
      ['edited-then-deleted', 'delete-local', 0, 3],
      ['edited-twice', 'download', 0, 3],
      summary(4, 0, 3),
    ]);
    const twice = outputs[2];
    expect(twice?.type === 'action' && twice.decision.server?.contentHash).toBe(C);
  });

  it('answers the cursor itself and no action when nothing changed since', async () => {
    const files = new FakeNamespace();
    files.commit([put('a')]);
    files.commit([put('b')]);
    expect(await run(files, 2)).toEqual([summary(2, 0, 0)]);
    expect(await run(files, 1, [local('a', A, 1)])).toEqual([
      { type: 'action', path: 'b', decision: { kind: 'download', baseVersion: 0, server: files.entry('b') } },
      summary(2, 1, 1),
    ]);
  });

  it('asks for a full diff when the cursor is ahead of the journal, reading nothing more than one call beside it', async () => {
    const files = new FakeNamespace();
    files.commit([put('a')]);
    files.commit([put('b')]);
    expect(await run(files, 3, [local('a', B, 1)])).toEqual([fullDiffRequired(1)]);
    expect(await run(new FakeNamespace(), 1)).toEqual([fullDiffRequired(0)]);
    expect(files.calls.map((call) => call.method).sort()).toEqual(['changes', 'currentEntries']);
  });

  it('asks for a full diff once the journal touches more than maxIncrementalPaths paths, and stops reading', async () => {
    const files = new FakeNamespace();
    files.commit([put('before')]);
    // One path per record: the journal spans 11 pages of 1,000 records (12 with one more).
    for (let i = 0; i < LIMITS.maxIncrementalPaths; i += 1) files.commit([put(`f/${i}`)]);
    const atLimit = await run(files, 1, [local('before', B, 1)]);
    expect(atLimit.at(-1)).toEqual(
      summary(1 + LIMITS.maxIncrementalPaths, 1, LIMITS.maxIncrementalPaths + 1),
    );

    files.commit([put('one-too-many')]);
    for (let i = 0; i < 5_000; i += 1) files.commit([put('f/0', i % 2 ? A : B)]);
    files.calls.length = 0;
    expect(await run(files, 1, [local('before', B, 1)])).toEqual([fullDiffRequired(1)]);
    // It stopped at the page where the paths went over, 10,001 records in: 11 pages, not 16; the
    // manifest's one current-entries call went out beside the first.
    expect(files.countOf('changes')).toBe(11);
    expect(files.countOf('currentEntries')).toBe(1);
  });

  it('reads current entries in batches of maxPathsPerGetFiles and asks again for the rest of a prefix answer', async () => {
    const files = new FakeNamespace();
    const paths = Array.from({ length: 2_500 }, (_, i) => `p/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < paths.length; i += 500)
      files.commit(paths.slice(i, i + 500).map((path) => put(path)));
    const cursor = files.head;
    const manifest = paths.map((path) => local(path, B, 1));

    const outputs = await run(files, cursor, manifest);
    expect(outputs).toHaveLength(2_501);
    expect(brief(outputs.slice(0, 1))).toEqual([['p/0000', 'upload', 1, 1]]);
    expect(
      files.calls.filter((call) => call.method === 'currentEntries').map((call) => call.argument),
    ).toEqual([1_000, 1_000, 500]);

    files.calls.length = 0;
    files.answerAtMost = 400;
    const prefixed = await run(files, cursor, manifest);
    expect(prefixed).toEqual(outputs);
    // Each call asks for the paths not answered yet, at most 1,000 at a time.
    expect(
      files.calls.filter((call) => call.method === 'currentEntries').map((call) => call.argument),
    ).toEqual([1_000, 1_000, 1_000, 1_000, 900, 500, 100]);
  });

  it('answers in comparePaths order (code points, not UTF-16 units) across manifest and journal paths', async () => {
    const files = new FakeNamespace();
    files.commit([put('base')]);
    const cursor = files.head;
    // U+1F600 is a surrogate pair in UTF-16 (0xD83D...), which sorts before U+FF5E there, after it here.
    files.commit([
      put('x\u{1F600}'),
      put('y\u{1F600}'),
      put('caf\u00e9/b'),
      put('Z'),
      put('y\uFF5E'),
      put('a/b'),
    ]);

    const outputs = await run(files, cursor, [
      local('a', B),
      local('a.b', B),
      local('caf\u00e9/a', B),
      local('x\uFF5E', B),
      local('\u00e9t\u00e9', B),
    ]);
    expect(outputs.flatMap((output) => (output.type === 'action' ? [output.path] : []))).toEqual([
      'Z',
      'a',
      'a.b',
      'a/b',
      'caf\u00e9/a',
      'caf\u00e9/b',
      'x\uFF5E',
      'x\u{1F600}',
      'y\uFF5E',
      'y\u{1F600}',
      '\u00e9t\u00e9',
    ]);
  });

  it('costs a constant number of calls for 3 changes in a namespace of 100,000 files, and never lists', async () => {
    const costOf = async (namespaceSize: number) => {
      const files = new FakeNamespace();
      for (let start = 0; start < namespaceSize; start += LIMITS.maxChangesPerCommit) {
        const count = Math.min(LIMITS.maxChangesPerCommit, namespaceSize - start);
        files.commit(Array.from({ length: count }, (_, i) => put(`d/${start + i}`)));
      }
      const cursor = files.head;
      files.commit([put('d/7', B)]); // changed on another device
      const outputs = await run(files, cursor, [local('d/42', C, 1), local('new', C)]); // changed here
      expect(brief(outputs)).toEqual([
        ['d/42', 'upload', 1, 1],
        ['d/7', 'download', 0, 2],
        ['new', 'upload', 0, undefined],
        summary(cursor + 1, 2, 3),
      ]);
      expect(files.countOf('list')).toBe(0);
      return files.calls.length;
    };

    const small = await costOf(1_000);
    const large = await costOf(100_000);
    expect(large).toBe(small);
    expect(large).toBe(2); // one journal page, one current-entries call
  });

  it('runs every metadata call within the budget it was given', async () => {
    const files = new FakeNamespace();
    files.commit([put('a')]);
    files.commit([put('b')]);
    await run(files, 1, [local('a', B, 1)]);
    expect(files.calls.length).toBeGreaterThan(0);
    for (const call of files.calls) expect(call.budget).toBe(budget);
  });

  it(`refuses a manifest of more than ${LIMITS.maxIncrementalPaths} entries with INVALID_ARGUMENT`, async () => {
    const files = new FakeNamespace();
    files.commit([put('a')]);
    const entries = Array.from({ length: LIMITS.maxIncrementalPaths + 1 }, (_, i) =>
      local(`m/${String(i).padStart(5, '0')}`, B),
    );
    expect((await run(files, 1, entries.slice(0, -1))).at(-1)).toMatchObject({
      entriesReceived: LIMITS.maxIncrementalPaths,
      fullDiffRequired: false,
    });
    const error = await domainErrorRejectedBy(run(files, 1, entries));
    expect(error.kind).toBe('invalid-argument');
    expect(error.message).toContain(`at most ${LIMITS.maxIncrementalPaths} manifest entries`);
  });

  it('refuses a manifest out of order before reading the journal', async () => {
    const files = new FakeNamespace();
    files.commit([put('a')]);
    const error = await domainErrorRejectedBy(run(files, 1, [local('b', A), local('a', A)]));
    expect(error.kind).toBe('invalid-argument');
    expect(files.calls).toEqual([]);
  });

  it('stops on a metadata answer that would loop forever rather than asking again', async () => {
    const files = new FakeNamespace();
    files.commit([put('a')]);
    files.answerAtMost = 0;
    await expect(run(files, 1, [local('a', B, 1)])).rejects.toThrow(/answered 0 of 1 paths/);
  });
});
