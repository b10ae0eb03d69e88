// Unit tests with fakes: a resumed full diff against FakeNamespace, an in-memory fake of the
// metadata port (src/testing); no network.
import { LIMITS } from '@filesync/resources';
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';
import type { MetadataFile } from '../adapters/metadata-files';
import { FAKE_NS, FakeNamespace } from '../testing/fake-namespace';
import { diffManifest, type DiffOutput } from './diff';
import { ManifestReader, type ManifestEntryInput } from './manifest';
import type { CallBudget } from './ports';
import { resumeFullDiff } from './resume';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

const budget: CallBudget = {
  accessToken: 'token-1',
  deadline: new Date(Date.now() + 60_000),
  signal: new AbortController().signal,
};

function local(path: string, contentHash: string, baseVersion = 0, baseContentHash = ''): ManifestEntryInput {
  return { path, contentHash, size: 1, baseVersion, baseContentHash, deleted: false };
}

function manifestOf(entries: readonly ManifestEntryInput[]): ManifestReader {
  async function* source() {
    yield* entries;
  }
  return new ManifestReader(source());
}

async function collect(diff: AsyncIterable<DiffOutput<MetadataFile>>): Promise<DiffOutput<MetadataFile>[]> {
  const out: DiffOutput<MetadataFile>[] = [];
  for await (const output of diff) out.push(output);
  return out;
}

const brief = (outputs: readonly DiffOutput<MetadataFile>[]) =>
  outputs.map((output) => (output.type === 'action' ? [output.path, output.decision.kind] : output.type));

describe('resumeFullDiff', () => {
  it('decides the named paths before the resume point against their current entries and lists only after it', async () => {
    const files = new FakeNamespace();
    files.commit([
      { path: 'a', contentHash: A },
      { path: 'b', contentHash: A },
      { path: 'c', contentHash: A },
      { path: 'd', contentHash: B },
    ]);
    // Resumed after `b`: `a` changed here since the broken-off diff (named), `b` was answered then
    // (not named, not answered again); after `b` the whole manifest, merged with the listing.
    const manifest = manifestOf([local('a', B, 1, A), local('c', A, 1, A), local('e', A)]);
    const out = await collect(
      resumeFullDiff(manifest, files, { namespaceId: FAKE_NS, resumeAfter: 'b', budget }),
    );
    expect(brief(out)).toEqual([['a', 'upload'], ['d', 'download'], ['e', 'upload'], 'summary']);
    expect(out.at(-1)).toEqual({
      type: 'summary',
      cursor: 1,
      entriesReceived: 3,
      actionsSent: 3,
      fullDiffRequired: false,
    });
    expect(files.calls.map((call) => [call.method, call.argument])).toEqual([
      ['currentEntries', 1],
      ['list', undefined],
    ]);
  });

  it('answers like the whole diff: the answers kept up to a progress plus the resumed rest', async () => {
    const files = new FakeNamespace();
    const paths = Array.from({ length: 1200 }, (_, index) => `f${String(index).padStart(5, '0')}`);
    files.commit(paths.filter((_, index) => index % 3 !== 0).map((path) => ({ path, contentHash: A })));
    const manifest = () =>
      paths
        .filter((_, index) => index % 2 === 0)
        .map((path) => local(path, index(path) % 4 === 0 ? B : A, 0));
    const index = (path: string) => Number(path.slice(1));
    const whole = await collect(diffManifest(manifestOf(manifest()), files.list(FAKE_NS, budget)));
    // The first diff breaks off after its first progress: it keeps what came before it.
    const firstProgress = whole.findIndex((output) => output.type === 'progress');
    const progress = whole[firstProgress] as Extract<DiffOutput<MetadataFile>, { type: 'progress' }>;
    const kept = whole.slice(0, firstProgress).filter((output) => output.type === 'action');
    const rest = await collect(
      resumeFullDiff(manifestOf(manifest().filter((entry) => entry.path > progress.throughPath)), files, {
        namespaceId: FAKE_NS,
        resumeAfter: progress.throughPath,
        budget,
      }),
    );
    const actions = (list: readonly DiffOutput<MetadataFile>[]) =>
      list.filter((output) => output.type === 'action').map((output) => brief([output])[0]);
    expect([...actions(kept), ...actions(rest)]).toEqual(actions(whole));
    expect(progress.throughPath > 'f00000').toBe(true);
  });

  it(`refuses more than ${LIMITS.maxIncrementalPaths} paths to decide again`, async () => {
    const files = new FakeNamespace();
    const named = Array.from({ length: LIMITS.maxIncrementalPaths + 1 }, (_, index) =>
      local(`p${String(index).padStart(6, '0')}`, A),
    );
    const error = await domainErrorRejectedBy(
      collect(resumeFullDiff(manifestOf(named), files, { namespaceId: FAKE_NS, resumeAfter: 'q', budget })),
    );
    expect(error.kind).toBe('invalid-argument');
  });
});
