// Unit tier: the real handlers behind a real grpc-js server on 127.0.0.1:0 and a real generated
// client; the metadata port is a small in-memory fake that generates its listing lazily.
import { credentials, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { callMetadata, common, syncdiff } from '@filesync/contracts';
import {
  createLogger,
  createMetrics,
  implement,
  startGrpcService,
  type Principal,
  type RunningService,
} from '@filesync/server-kit';
import type { MetadataFile } from './adapters/metadata-files';
import type { ListingPage } from './domain/diff';
import type { CallBudget, ServerFiles } from './domain/ports';
import { createHandlers } from './handlers';

const A = 'a'.repeat(64);
const NS = 'ns-1';
const PAGE = 500;
const logger = createLogger('test', 'silent');

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

/** A namespace whose listing is generated page by page, as metadata streams it. */
class GeneratedFiles implements ServerFiles<MetadataFile> {
  listings = 0;
  constructor(
    private readonly paths: (index: number) => string,
    private readonly count: number,
  ) {}

  async *list(_namespaceId: string, _budget: CallBudget): AsyncGenerator<ListingPage<MetadataFile>> {
    this.listings += 1;
    for (let start = 0; start < this.count; start += PAGE) {
      const entries: MetadataFile[] = [];
      for (let i = start; i < Math.min(start + PAGE, this.count); i += 1) {
        entries.push(serverFile(this.paths(i), 1, A));
      }
      yield { cursor: 42, entries };
    }
  }

  async changes(): Promise<never> {
    throw new Error('a full diff reads no journal');
  }

  async currentEntries(): Promise<never> {
    throw new Error('a full diff reads no current entries');
  }

  async findMissingBlocks(): Promise<string[]> {
    return [];
  }
}

const pathOf = (i: number) => `files/${String(i).padStart(7, '0')}.txt`;
const entry = (path: string, baseVersion = 1): syncdiff.DiffRequest => ({
  message: {
    $case: 'entry',
    value: {
      path,
      contentHash: A,
      size: 1,
      baseVersion,
      baseContentHash: baseVersion ? A : '',
      deleted: false,
    },
  },
});
const start: syncdiff.DiffRequest = {
  message: { $case: 'start', value: { namespaceId: NS, sinceCursor: 0, remoteRoot: '', resumeAfter: '' } },
};

interface Harness {
  readonly client: syncdiff.SyncDiffServiceClient;
  readonly held: number[];
  close(): Promise<void>;
}

async function serve(
  files: ServerFiles<MetadataFile>,
  limits: { idleTimeoutMs: number; streamsPerUser: number },
) {
  const metrics = createMetrics('test');
  const held: number[] = [];
  let maxHeld = 0;
  const handlers = createHandlers({
    files,
    ...limits,
    heldEntriesProbe: (entries) => {
      if (entries > maxHeld) {
        maxHeld = entries;
        held.push(entries);
      }
    },
  });
  const principal: Principal = { userId: 'u-1', deviceId: 'd', email: 'u@example.com', namespaceIds: [NS] };
  const service: RunningService = await startGrpcService({
    serviceName: 'sync-diff-test',
    settings: { host: '127.0.0.1', port: 0, metricsPort: 0, shutdownGraceMs: 1_000, drainDelayMs: 0 },
    logger,
    metrics,
    services: [
      {
        name: 'filesync.syncdiff.v1.SyncDiffService',
        definition: syncdiff.SyncDiffServiceService,
        implementation: implement(syncdiff.SyncDiffServiceService, handlers, {
          logger,
          metrics,
          verifier: { verify: async () => principal },
        }),
      },
    ],
  });
  const client = new syncdiff.SyncDiffServiceClient(
    `127.0.0.1:${service.port}`,
    credentials.createInsecure(),
  );
  const harness: Harness = {
    client,
    held,
    async close() {
      client.close();
      await service.shutdown('test done');
    },
  };
  return harness;
}

type DiffCall = ClientDuplexStream<syncdiff.DiffRequest, syncdiff.DiffResponse>;

function open(client: syncdiff.SyncDiffServiceClient): DiffCall {
  return client.diff(callMetadata('token'), { deadline: Date.now() + 120_000 });
}

/** The responses and final status of a call. */
function outcome(call: DiffCall) {
  const responses: syncdiff.DiffResponse[] = [];
  const ended = new Promise<{ responses: syncdiff.DiffResponse[]; error: ServiceError | undefined }>(
    (resolve) => {
      call.on('data', (response: syncdiff.DiffResponse) => responses.push(response));
      call.on('error', (error: ServiceError) => resolve({ responses, error }));
      call.on('end', () => resolve({ responses, error: undefined }));
    },
  );
  return { responses, ended };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('kind 13: Diff is bounded in memory, time and streams per user', () => {
  test('a 200,000-entry manifest is merged with the listing holding at most one page and one entry', async () => {
    const total = 200_000;
    // The server lacks every tenth path, so uploads stream back while the manifest is still coming.
    const serverPaths: string[] = [];
    for (let i = 0; i < total; i += 1) if (i % 10 !== 0) serverPaths.push(pathOf(i));
    const harness = await serve(new GeneratedFiles((i) => serverPaths[i]!, serverPaths.length), {
      idleTimeoutMs: 60_000,
      streamsPerUser: 4,
    });
    try {
      const call = open(harness.client);
      const { responses, ended } = outcome(call);
      let written = 0;
      let writtenAtFirstAnswer: number | undefined;
      call.once('data', () => (writtenAtFirstAnswer = written));
      call.write(start);
      for (let i = 0; i < total; i += 1) {
        // Respect the stream's flow control, as the sync client does.
        if (!call.write(entry(pathOf(i), i % 10 === 0 ? 0 : 1)))
          await new Promise((r) => call.once('drain', r));
        written += 1;
      }
      call.end();
      const { error } = await ended;

      expect(error).toBeUndefined();
      expect(responses.at(-1)?.message).toEqual({
        $case: 'summary',
        value: {
          cursor: 42,
          entriesReceived: total,
          actionsSent: total / 10,
          fullDiffRequired: false,
          incremental: false,
          remoteRoot: '',
          resumeAfter: '',
        },
      });
      // Answers flowed while the client was still sending: the server never waited for all of it.
      expect(writtenAtFirstAnswer).toBeLessThan(total);
      // What the merge held at its peak: one listing page and the manifest entry in hand.
      expect(Math.max(...harness.held)).toBeLessThanOrEqual(PAGE + 1);
    } finally {
      await harness.close();
    }
  }, 300_000);

  test.each([
    ['a full diff', 0],
    ['an incremental diff', 5],
  ])(
    'a stream that stops sending is ended by the server with DEADLINE_EXCEEDED (%s)',
    async (_name, sinceCursor) => {
      const harness = await serve(new GeneratedFiles(pathOf, 3), { idleTimeoutMs: 300, streamsPerUser: 4 });
      try {
        const call = open(harness.client);
        const { ended } = outcome(call);
        call.write({
          message: {
            $case: 'start',
            value: { namespaceId: NS, sinceCursor, remoteRoot: '', resumeAfter: '' },
          },
        });
        call.write(entry(pathOf(0)));
        // ...and then nothing, without half-closing: a stuck or vanished client.
        const { error } = await ended;
        expect(error?.code).toBe(status.DEADLINE_EXCEEDED);
        expect(error?.details).toMatch(/no Diff message for 300 ms/);
      } finally {
        await harness.close();
      }
    },
  );

  test('a user gets RESOURCE_EXHAUSTED with a retry hint beyond the concurrent-stream limit', async () => {
    const files = new GeneratedFiles(pathOf, 0);
    const harness = await serve(files, { idleTimeoutMs: 60_000, streamsPerUser: 2 });
    try {
      const first = open(harness.client);
      const second = open(harness.client);
      const firstOutcome = outcome(first);
      const secondOutcome = outcome(second);
      for (const call of [first, second]) {
        call.write(start);
        call.write(entry(pathOf(0)));
      }
      // Both streams hold their slot once their listing started.
      await until(() => files.listings === 2);

      const third = open(harness.client);
      const thirdOutcome = outcome(third);
      third.write(start);
      third.write(entry(pathOf(0)));
      third.end();
      const refused = (await thirdOutcome.ended).error;
      expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(refused?.metadata.get('filesync-retry-after-ms')).toEqual(['5000']);

      // A finished stream gives its slot back.
      first.end();
      expect((await firstOutcome.ended).error).toBeUndefined();
      const fourth = open(harness.client);
      const fourthOutcome = outcome(fourth);
      fourth.write(start);
      fourth.end();
      expect((await fourthOutcome.ended).error).toBeUndefined();

      second.end();
      expect((await secondOutcome.ended).error).toBeUndefined();
    } finally {
      await harness.close();
    }
  });

  test('an entry out of path order is rejected with INVALID_ARGUMENT', async () => {
    const harness = await serve(new GeneratedFiles(pathOf, 0), { idleTimeoutMs: 60_000, streamsPerUser: 4 });
    try {
      const call = open(harness.client);
      const { ended } = outcome(call);
      call.write(start);
      call.write(entry(pathOf(2)));
      call.write(entry(pathOf(1)));
      call.end();
      const { error } = await ended;
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(error?.details).toMatch(/sorted by path/);
    } finally {
      await harness.close();
    }
  });
});
