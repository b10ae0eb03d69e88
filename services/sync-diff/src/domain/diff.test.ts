import { diffManifest, type DiffOutput, type ListingPage, type ServerFile } from './diff';
import { Manifest } from './manifest';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

async function* pages(...list: ListingPage<ServerFile>[]): AsyncGenerator<ListingPage<ServerFile>> {
  for (const page of list) yield page;
}

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
  it('matches manifest and listing across pages, then reports local-only paths and the summary', async () => {
    const manifest = new Manifest();
    const add = (path: string, contentHash: string, baseVersion: number, baseContentHash: string) =>
      manifest.add({ path, contentHash, size: 1, baseVersion, baseContentHash, deleted: false });
    add('same', A, 1, A); // in sync: no action
    add('edited-here', B, 1, A); // server still at 1: upload
    add('only-here', A, 0, '');
    add('edited-there', A, 1, A); // server at 2: download

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
      ['only-there', 'download', 0],
      ['only-here', 'upload', 0],
      { type: 'summary', cursor: 7, entriesReceived: 4, actionsSent: 4 },
    ]);
  });

  it('reports cursor 0 for an empty namespace', async () => {
    expect(await collect(diffManifest(new Manifest(), pages()))).toEqual([
      { type: 'summary', cursor: 0, entriesReceived: 0, actionsSent: 0 },
    ]);
  });
});
