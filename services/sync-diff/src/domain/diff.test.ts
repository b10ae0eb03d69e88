import { diffManifest, type DiffOutput, type ListingPage, type ServerFile } from './diff';
import { ManifestReader, type ManifestEntryInput } from './manifest';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

async function* pages(...list: ListingPage<ServerFile>[]): AsyncGenerator<ListingPage<ServerFile>> {
  for (const page of list) yield page;
}

function manifestOf(...entries: ManifestEntryInput[]): ManifestReader {
  async function* source() {
    yield* entries;
  }
  return new ManifestReader(source());
}

const local = (path: string, contentHash: string, baseVersion: number, baseContentHash: string) => ({
  path,
  contentHash,
  size: 1,
  baseVersion,
  baseContentHash,
  deleted: false,
});

async function collect(iterable: AsyncIterable<DiffOutput<ServerFile>>) {
  const out: DiffOutput<ServerFile>[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const file = (path: string, version: number, contentHash: string, deleted = false): ServerFile => ({
  path,
  version,
  contentHash,
  deleted,
});

describe('diffManifest', () => {
  it('merges manifest and listing across pages in path order, then reports the summary', async () => {
    const manifest = manifestOf(
      local('edited-here', B, 1, A), // server still at 1: upload
      local('edited-there', A, 1, A), // server at 2: download
      local('only-here', A, 0, ''),
      local('same', A, 1, A), // in sync: no action
    );

    const output = await collect(
      diffManifest(
        manifest,
        pages(
          { cursor: 7, entries: [file('edited-here', 1, A), file('edited-there', 2, B)] },
          { cursor: 9, entries: [file('gone', 3, '', true), file('only-there', 1, B), file('same', 1, A)] },
        ),
      ),
    );

    expect(
      output.map((o) => (o.type === 'action' ? [o.path, o.decision.kind, o.decision.baseVersion] : o)),
    ).toEqual([
      ['edited-here', 'upload', 1],
      ['edited-there', 'download', 0],
      ['only-here', 'upload', 0],
      ['only-there', 'download', 0],
      { type: 'summary', cursor: 7, entriesReceived: 4, actionsSent: 4, fullDiffRequired: false },
    ]);
  });

  it('reports cursor 0 for an empty namespace', async () => {
    expect(await collect(diffManifest(manifestOf(), pages()))).toEqual([
      { type: 'summary', cursor: 0, entriesReceived: 0, actionsSent: 0, fullDiffRequired: false },
    ]);
  });

  it('refuses a listing out of path order rather than pairing paths wrongly', async () => {
    const listing = pages({ cursor: 1, entries: [file('b', 1, A), file('a', 1, A)] });
    await expect(collect(diffManifest(manifestOf(local('a', A, 1, A)), listing))).rejects.toThrow(
      /not in path order/,
    );
  });

  it('reports its progress every so many merged paths, naming the last path decided', async () => {
    const output = await collect(
      diffManifest(
        manifestOf(local('a', A, 0, ''), local('c', A, 1, A), local('d', A, 1, A)),
        pages({ cursor: 5, entries: [file('b', 1, B), file('c', 1, A), file('d', 1, A), file('e', 1, B)] }),
        undefined,
        2,
      ),
    );
    expect(output.map((o) => (o.type === 'action' ? o.path : o))).toEqual([
      'a',
      'b',
      // Paths a to b are merged: a and b answered before the report.
      { type: 'progress', throughPath: 'b', cursor: 5 },
      { type: 'progress', throughPath: 'd', cursor: 5 },
      'e',
      { type: 'summary', cursor: 5, entriesReceived: 3, actionsSent: 3, fullDiffRequired: false },
    ]);
  });
});
