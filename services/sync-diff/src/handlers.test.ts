import { Metadata } from '@grpc/grpc-js';
import pino from 'pino';
import { common, syncdiff } from '@filesync/contracts';
import { LIMITS as SHARED_LIMITS } from '@filesync/resources';
import { DomainError, type CallContext, type Principal } from '@filesync/server-kit';
import type { MetadataFile } from './adapters/metadata-files';
import type { ListingPage } from './domain/diff';
import type { CallBudget, ServerFiles } from './domain/ports';
import { createHandlers } from './handlers';
import { FakeNamespace } from './testing/fake-namespace';

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

const startMsg = (namespaceId = NS, sinceCursor = 0, remoteRoot = ''): syncdiff.DiffRequest => ({
  message: { $case: 'start', value: { namespaceId, sinceCursor, remoteRoot, resumeAfter: '' } },
});
const entryMsg = (path: string, contentHash: string, baseVersion = 0): syncdiff.DiffRequest => ({
  message: {
    $case: 'entry',
    value: { path, contentHash, size: 1, baseVersion, baseContentHash: baseVersion ? A : '', deleted: false },
  },
});

/** The entries of `entryMsg`s as one `entries` message. */
const entriesMsg = (...messages: syncdiff.DiffRequest[]): syncdiff.DiffRequest => ({
  message: {
    $case: 'entries',
    value: {
      entries: messages.map((message) => {
        if (message.message?.$case !== 'entry') throw new Error('entriesMsg takes entryMsg messages');
        return message.message.value;
      }),
    },
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
    movedFrom: '',
    movedTo: '',
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
    expect(summary).toEqual({
      cursor: 12,
      entriesReceived: 2,
      actionsSent: 2,
      fullDiffRequired: false,
      incremental: false,
      remoteRoot: '',
      resumeAfter: '',
    });
    expect(files.budgets[0]?.accessToken).toBe('token-1');
    expect(files.budgets[0]?.deadline.getTime()).toBeLessThanOrEqual(ctx.deadline!.getTime());
  });

  it('reads entries batched in `entries` messages as it reads them one by one, mixed or not', async () => {
    const answer = async (...messages: syncdiff.DiffRequest[]) =>
      collect(
        createHandlers({
          files: new FakeServerFiles([{ cursor: 12, entries: [serverFile('a.txt', 2, B)] }]),
          ...LIMITS,
        }).diff(stream(startMsg(), ...messages), context()),
      );
    const one = entryMsg('a.txt', A, 1);
    const two = entryMsg('b.txt', A);
    const three = entryMsg('c.txt', A);
    const single = await answer(one, two, three);
    expect(single.map((r) => r.message?.$case)).toEqual(['action', 'action', 'action', 'summary']);
    expect(await answer(entriesMsg(one, two, three))).toEqual(single);
    expect(await answer(entriesMsg(one), two, entriesMsg(three))).toEqual(single);
    // Order still counts across and within batches.
    expect(await kindOfFailure(() => answer(entriesMsg(two, one)))).toBe('invalid-argument');
    expect(await kindOfFailure(() => answer(entriesMsg(two), one))).toBe('invalid-argument');
  });

  it('refuses an empty `entries` message and one past the limit', async () => {
    const handlers = createHandlers({ files: new FakeServerFiles(), ...LIMITS });
    const empty: syncdiff.DiffRequest = { message: { $case: 'entries', value: { entries: [] } } };
    expect(await kindOfFailure(() => collect(handlers.diff(stream(startMsg(), empty), context())))).toBe(
      'invalid-argument',
    );
    const many = Array.from({ length: SHARED_LIMITS.maxManifestEntriesPerMessage + 1 }, (_, index) =>
      entryMsg(`f${String(index).padStart(6, '0')}`, A),
    );
    const out: syncdiff.DiffResponse[] = [];
    const failure = await kindOfFailure(async () => {
      for await (const response of handlers.diff(stream(startMsg(), entriesMsg(...many)), context()))
        out.push(response);
    });
    expect(failure).toBe('invalid-argument');
    expect(out).toEqual([]);
    const atLimit = await collect(
      handlers.diff(
        stream(startMsg(), entriesMsg(...many.slice(0, SHARED_LIMITS.maxManifestEntriesPerMessage))),
        context(),
      ),
    );
    expect(atLimit.at(-1)?.message?.$case).toBe('summary');
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

describe('SyncDiff handlers: incremental diff (since_cursor > 0)', () => {
  const actions = (out: syncdiff.DiffResponse[]) =>
    out.flatMap((r) => (r.message?.$case === 'action' ? [[r.message.value.path, r.message.value.kind]] : []));
  const summaryOf = (out: syncdiff.DiffResponse[]) =>
    out.at(-1)?.message?.$case === 'summary' ? out.at(-1)?.message?.value : undefined;

  it("answers from the journal after the client's cursor, every metadata call within the caller's budget", async () => {
    const files = new FakeNamespace();
    files.commit([
      { path: 'a.txt', contentHash: A },
      { path: 'b.txt', contentHash: A },
    ]);
    files.commit([
      { path: 'b.txt', contentHash: B },
      { path: 'c.txt', deleted: true },
    ]);
    const ctx = context();
    const out = await collect(
      createHandlers({ files, ...LIMITS }).diff(stream(startMsg(NS, 1), entryMsg('a.txt', B, 1)), ctx),
    );

    expect(actions(out)).toEqual([
      ['a.txt', syncdiff.ActionKind.ACTION_KIND_UPLOAD],
      ['b.txt', syncdiff.ActionKind.ACTION_KIND_DOWNLOAD],
      ['c.txt', syncdiff.ActionKind.ACTION_KIND_DELETE_LOCAL],
    ]);
    expect(summaryOf(out)).toEqual({
      cursor: 2,
      entriesReceived: 1,
      actionsSent: 3,
      fullDiffRequired: false,
      incremental: true,
      remoteRoot: '',
      resumeAfter: '',
    });
    const download = out[1]?.message?.value as syncdiff.DiffAction;
    expect(download.serverEntry).toEqual(files.entry('b.txt')?.entry);
    expect(files.countOf('list')).toBe(0);
    expect(files.calls.map((call) => call.method).sort()).toEqual(['changes', 'currentEntries']);
    for (const { budget } of files.calls) {
      expect(budget.accessToken).toBe('token-1');
      expect(budget.signal).toBe(ctx.signal);
      expect(budget.deadline.getTime()).toBeLessThanOrEqual(ctx.deadline!.getTime());
    }
  });

  it('tells the client to run a full diff when its cursor is ahead of the journal', async () => {
    const files = new FakeNamespace();
    files.commit([{ path: 'a.txt', contentHash: A }]);
    const out = await collect(
      createHandlers({ files, ...LIMITS }).diff(stream(startMsg(NS, 9), entryMsg('a.txt', B, 1)), context()),
    );
    expect(out).toEqual([
      {
        message: {
          $case: 'summary',
          value: {
            cursor: 0,
            entriesReceived: 1,
            actionsSent: 0,
            fullDiffRequired: true,
            incremental: true,
            remoteRoot: '',
            resumeAfter: '',
          },
        },
      },
    ]);
  });

  it.each([
    ['negative', -1],
    ['not a whole number', 1.5],
  ])(
    'refuses a since_cursor that is %s with INVALID_ARGUMENT, before any metadata call',
    async (_name, cursor) => {
      const files = new FakeNamespace();
      const handlers = createHandlers({ files, ...LIMITS });
      expect(await kindOfFailure(() => collect(handlers.diff(stream(startMsg(NS, cursor)), context())))).toBe(
        'invalid-argument',
      );
      expect(files.calls).toEqual([]);
    },
  );

  it('resumes a full diff after resume_after, says so in the summary, and refuses a bad resume point', async () => {
    const files = new FakeNamespace();
    files.commit([
      { path: 'a.txt', contentHash: A },
      { path: 'b.txt', contentHash: A },
    ]);
    const handlers = createHandlers({ files, ...LIMITS });
    const resumeMsg = (resumeAfter: string, sinceCursor = 0, remoteRoot = ''): syncdiff.DiffRequest => ({
      message: { $case: 'start', value: { namespaceId: NS, sinceCursor, remoteRoot, resumeAfter } },
    });
    const out = await collect(handlers.diff(stream(resumeMsg('a.txt')), context()));
    expect(out.map((response) => response.message?.$case)).toEqual(['action', 'summary']);
    expect(out[0]?.message).toMatchObject({ value: { path: 'b.txt' } });
    expect(summaryOf(out)).toMatchObject({ resumeAfter: 'a.txt', actionsSent: 1 });
    for (const start of [resumeMsg('a.txt', 1), resumeMsg('../a'), resumeMsg('a.txt', 0, 'docs')]) {
      expect(await kindOfFailure(() => collect(handlers.diff(stream(start), context())))).toBe(
        'invalid-argument',
      );
    }
  });

  it('refuses a manifest of more than LIMITS.maxIncrementalPaths entries with INVALID_ARGUMENT', async () => {
    const files = new FakeNamespace();
    files.commit([{ path: 'a.txt', contentHash: A }]);
    const handlers = createHandlers({ files, ...LIMITS });
    const entries = Array.from({ length: 10_001 }, (_, i) => entryMsg(`m/${String(i).padStart(5, '0')}`, A));
    expect(
      await kindOfFailure(() => collect(handlers.diff(stream(startMsg(NS, 1), ...entries), context()))),
    ).toBe('invalid-argument');
    expect(files.calls).toEqual([]);
    // One entry fewer is a diff like any other.
    const out = await collect(handlers.diff(stream(startMsg(NS, 1), ...entries.slice(1)), context()));
    expect(summaryOf(out)).toMatchObject({ entriesReceived: 10_000, actionsSent: 10_000 });
  });

  it('rejects an incremental manifest with bad entries as INVALID_ARGUMENT, like the full diff', async () => {
    const handlers = createHandlers({ files: new FakeNamespace(), ...LIMITS });
    for (const messages of [
      [startMsg(NS, 1), entryMsg('b', A), entryMsg('a', A)],
      [startMsg(NS, 1), entryMsg('../a', A)],
      [startMsg(NS, 1), startMsg(NS, 1)],
    ]) {
      expect(await kindOfFailure(() => collect(handlers.diff(stream(...messages), context())))).toBe(
        'invalid-argument',
      );
    }
  });
});

describe('SyncDiff handlers: a folder bound to a remote root (DiffStart.remote_root)', () => {
  const actions = (out: syncdiff.DiffResponse[]) =>
    out.flatMap((r) => (r.message?.$case === 'action' ? [[r.message.value.path, r.message.value.kind]] : []));
  const summaryOf = (out: syncdiff.DiffResponse[]) =>
    out.at(-1)?.message?.$case === 'summary' ? out.at(-1)?.message?.value : undefined;
  const { ACTION_KIND_DOWNLOAD, ACTION_KIND_UPLOAD, ACTION_KIND_DELETE_LOCAL } = syncdiff.ActionKind;

  /** Photos/ and its neighbours whose names start the same, or sort around it. */
  function namespaceAroundPhotos(): FakeNamespace {
    const files = new FakeNamespace();
    files.commit([
      { path: 'Photos/a.jpg', contentHash: A },
      { path: 'Photos/sub/b.jpg', contentHash: A },
      { path: 'Photos2/c.jpg', contentHash: A },
      { path: 'Photos.txt', contentHash: A },
      { path: 'Ph/d.jpg', contentHash: A },
    ]);
    return files;
  }

  it('a full diff lists and answers only the paths below the root, and echoes the root', async () => {
    const files = namespaceAroundPhotos();
    const out = await collect(
      createHandlers({ files, ...LIMITS }).diff(
        stream(startMsg(NS, 0, 'Photos'), entryMsg('Photos/new.jpg', B)),
        context(),
      ),
    );
    expect(actions(out)).toEqual([
      ['Photos/a.jpg', ACTION_KIND_DOWNLOAD],
      ['Photos/new.jpg', ACTION_KIND_UPLOAD],
      ['Photos/sub/b.jpg', ACTION_KIND_DOWNLOAD],
    ]);
    expect(summaryOf(out)).toMatchObject({ cursor: 1, remoteRoot: 'Photos', incremental: false });
  });

  it('an incremental diff ignores journal entries outside the root, and its cursor moves past them', async () => {
    const files = namespaceAroundPhotos();
    files.commit([{ path: 'Photos2/c.jpg', deleted: true }]);
    files.commit([
      { path: 'Photos/a.jpg', contentHash: B },
      { path: 'Photos.txt', contentHash: B },
    ]);
    files.commit([{ path: 'Other/x', contentHash: B }]);
    const out = await collect(
      createHandlers({ files, ...LIMITS }).diff(stream(startMsg(NS, 1, 'Photos')), context()),
    );
    expect(actions(out)).toEqual([['Photos/a.jpg', ACTION_KIND_DOWNLOAD]]);
    expect(summaryOf(out)).toMatchObject({ cursor: 4, remoteRoot: 'Photos', incremental: true });

    const onlyOutside = await collect(
      createHandlers({ files, ...LIMITS }).diff(stream(startMsg(NS, 3, 'Photos')), context()),
    );
    expect(actions(onlyOutside)).toEqual([]);
    expect(summaryOf(onlyOutside)).toMatchObject({ cursor: 4, fullDiffRequired: false });
  });

  it('deletions below the root reach the client; a root deleted as a whole is no error', async () => {
    const files = namespaceAroundPhotos();
    files.commit([
      { path: 'Photos/a.jpg', deleted: true },
      { path: 'Photos/sub/b.jpg', deleted: true },
    ]);
    const out = await collect(
      createHandlers({ files, ...LIMITS }).diff(stream(startMsg(NS, 1, 'Photos')), context()),
    );
    expect(actions(out)).toEqual([
      ['Photos/a.jpg', ACTION_KIND_DELETE_LOCAL],
      ['Photos/sub/b.jpg', ACTION_KIND_DELETE_LOCAL],
    ]);
  });

  it('refuses a manifest entry outside the root (a prefix of the name is not below it)', async () => {
    for (const path of ['Photos2/c.jpg', 'Photos', 'a.txt']) {
      const files = namespaceAroundPhotos();
      expect(
        await kindOfFailure(() =>
          collect(
            createHandlers({ files, ...LIMITS }).diff(
              stream(startMsg(NS, 0, 'Photos'), entryMsg(path, A)),
              context(),
            ),
          ),
        ),
      ).toBe('invalid-argument');
    }
  });

  it('refuses a root that is not a canonical path, before reading anything', async () => {
    for (const root of ['/Photos', 'Photos/', 'a//b', '..', 'Cafe\u0301']) {
      const files = namespaceAroundPhotos();
      expect(
        await kindOfFailure(() =>
          collect(createHandlers({ files, ...LIMITS }).diff(stream(startMsg(NS, 0, root)), context())),
        ),
      ).toBe('invalid-argument');
      expect(files.calls).toEqual([]);
    }
  });

  it('refuses a root that is a live file on the server (FAILED_PRECONDITION), not a deleted one', async () => {
    const files = namespaceAroundPhotos();
    expect(
      await kindOfFailure(() =>
        collect(createHandlers({ files, ...LIMITS }).diff(stream(startMsg(NS, 0, 'Photos.txt')), context())),
      ),
    ).toBe('failed-precondition');
    files.commit([{ path: 'Photos.txt', deleted: true }]);
    const out = await collect(
      createHandlers({ files, ...LIMITS }).diff(stream(startMsg(NS, 0, 'Photos.txt')), context()),
    );
    expect(summaryOf(out)).toMatchObject({ remoteRoot: 'Photos.txt', actionsSent: 0 });
  });
});
