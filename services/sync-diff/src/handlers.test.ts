import { Metadata } from '@grpc/grpc-js';
import pino from 'pino';
import { common, syncdiff } from '@filesync/contracts';
import { DomainError, type CallContext, type Principal } from '@filesync/server-kit';
import type { MetadataFile } from './adapters/metadata-files';
import type { ListingPage } from './domain/diff';
import type { CallBudget, ServerFiles } from './domain/ports';
import { createHandlers } from './handlers';

const A = 'a'.repeat(64);
const LIMITS = { idleTimeoutMs: 60_000, streamsPerUser: 4 };
const B = 'b'.repeat(64);
const NS = 'ns-1';

/** A small in-memory fake of the metadata port that records how it was called. */
class FakeServerFiles implements ServerFiles<MetadataFile> {
  readonly budgets: CallBudget[] = [];
  constructor(private readonly pages: ListingPage<MetadataFile>[] = []) {}

  async *list(_namespaceId: string, budget: CallBudget) {
    this.budgets.push(budget);
    for (const page of this.pages) yield page;
  }

  async changes(): Promise<never> {
    throw new Error('a full diff reads no journal');
  }

  async currentEntries(): Promise<never> {
    throw new Error('a full diff reads no current entries');
  }

  async findMissingBlocks(_namespaceId: string, hashes: readonly string[], budget: CallBudget) {
    this.budgets.push(budget);
    return hashes.filter((hash) => hash === B);
  }
}

function context(
  principal: Principal = { userId: 'u', deviceId: 'd', email: 'u@x', namespaceIds: [NS] },
): CallContext {
  return {
    method: 'test',
    metadata: new Metadata(),
    signal: new AbortController().signal,
    deadline: new Date(Date.now() + 30_000),
    logger: pino({ level: 'silent' }),
    bearerToken: 'token-1',
    principal: async () => principal,
  };
}

async function* stream(...messages: syncdiff.DiffRequest[]) {
  for (const message of messages) yield message;
}

const startMsg = (namespaceId = NS): syncdiff.DiffRequest => ({
  message: { $case: 'start', value: { namespaceId, sinceCursor: 0 } },
});
const entryMsg = (path: string, contentHash: string, baseVersion = 0): syncdiff.DiffRequest => ({
  message: {
    $case: 'entry',
    value: { path, contentHash, size: 1, baseVersion, baseContentHash: baseVersion ? A : '', deleted: false },
  },
});

function serverFile(path: string, version: number, contentHash: string): MetadataFile {
  const entry: common.FileEntry = {
    namespaceId: NS,
    path,
    version,
    content: { contentHash, size: 1, blockHashes: [] },
    deleted: false,
    modifiedAtMs: 0,
    committedAtMs: 0,
    deviceId: 'd',
    journalSeq: version,
  };
  return { path, version, deleted: false, contentHash, entry };
}

async function collect(iterable: AsyncIterable<syncdiff.DiffResponse>) {
  const out: syncdiff.DiffResponse[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function kindOfFailure(run: () => Promise<unknown>) {
  try {
    await run();
  } catch (error) {
    if (error instanceof DomainError) return error.kind;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('SyncDiff handlers', () => {
  it('streams actions then the summary, forwarding the caller token and a deadline', async () => {
    const files = new FakeServerFiles([{ cursor: 12, entries: [serverFile('a.txt', 2, B)] }]);
    const ctx = context();
    const out = await collect(
      createHandlers({ files, ...LIMITS }).diff(
        stream(startMsg(), entryMsg('a.txt', A, 1), entryMsg('new.txt', A)),
        ctx,
      ),
    );

    expect(out.map((r) => r.message?.$case)).toEqual(['action', 'action', 'summary']);
    const [download, upload, summary] = out.map((r) => r.message?.value);
    expect(download).toMatchObject({ path: 'a.txt', kind: syncdiff.ActionKind.ACTION_KIND_DOWNLOAD });
    expect((download as syncdiff.DiffAction).serverEntry?.version).toBe(2);
    expect(upload).toMatchObject({
      path: 'new.txt',
      kind: syncdiff.ActionKind.ACTION_KIND_UPLOAD,
      baseVersion: 0,
    });
    expect(summary).toEqual({ cursor: 12, entriesReceived: 2, actionsSent: 2, fullDiffRequired: false });
    expect(files.budgets[0]?.accessToken).toBe('token-1');
    expect(files.budgets[0]?.deadline.getTime()).toBeLessThanOrEqual(ctx.deadline!.getTime());
  });

  it('rejects a stream that does not open with start', async () => {
    const handlers = createHandlers({ files: new FakeServerFiles(), ...LIMITS });
    expect(await kindOfFailure(() => collect(handlers.diff(stream(entryMsg('a', A)), context())))).toBe(
      'invalid-argument',
    );
    expect(await kindOfFailure(() => collect(handlers.diff(stream(), context())))).toBe('invalid-argument');
  });

  it('rejects a second start and duplicate paths', async () => {
    const handlers = createHandlers({ files: new FakeServerFiles(), ...LIMITS });
    expect(await kindOfFailure(() => collect(handlers.diff(stream(startMsg(), startMsg()), context())))).toBe(
      'invalid-argument',
    );
    expect(
      await kindOfFailure(() =>
        collect(handlers.diff(stream(startMsg(), entryMsg('a', A), entryMsg('a', B)), context())),
      ),
    ).toBe('invalid-argument');
  });

  it("denies another user's namespace before reading the manifest", async () => {
    const files = new FakeServerFiles();
    const handlers = createHandlers({ files, ...LIMITS });
    expect(await kindOfFailure(() => collect(handlers.diff(stream(startMsg('other-ns')), context())))).toBe(
      'permission-denied',
    );
    expect(files.budgets).toHaveLength(0);
  });

  it('forwards FindMissingBlocks after validating hashes and namespace', async () => {
    const files = new FakeServerFiles();
    const handlers = createHandlers({ files, ...LIMITS });
    await expect(
      handlers.findMissingBlocks({ namespaceId: NS, blockHashes: [A, B] }, context()),
    ).resolves.toEqual({
      missingBlockHashes: [B],
    });
    expect(files.budgets[0]?.accessToken).toBe('token-1');
    expect(
      await kindOfFailure(() =>
        handlers.findMissingBlocks({ namespaceId: NS, blockHashes: ['xyz'] }, context()),
      ),
    ).toBe('invalid-argument');
    expect(
      await kindOfFailure(() =>
        handlers.findMissingBlocks({ namespaceId: 'other', blockHashes: [A] }, context()),
      ),
    ).toBe('permission-denied');
  });
});
