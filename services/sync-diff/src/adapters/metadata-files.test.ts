// Unit tier: the adapter against a stand-in MetadataService on a real grpc-js server at
// 127.0.0.1:0, reached through the real generated client; no other service.
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { common, insecureCredentials, metadata } from '@filesync/contracts';
import type { CallBudget } from '../domain/ports';
import { MetadataFiles } from './metadata-files';

const A = 'a'.repeat(64);
const NS = 'ns-1';

const fileEntry = (path: string, version: number, deleted = false): common.FileEntry => ({
  namespaceId: NS,
  path,
  version,
  content: deleted ? undefined : { contentHash: A, size: 1, blockHashes: [A] },
  deleted,
  modifiedAtMs: 0,
  committedAtMs: 0,
  deviceId: 'd',
  journalSeq: 1,
  movedFrom: '',
  movedTo: '',
});

interface Seen {
  readonly request: unknown;
  readonly authorization: unknown;
  readonly deadline: unknown;
}

describe('MetadataFiles (journal and current entries)', () => {
  let server: Server;
  let client: metadata.MetadataServiceClient;
  let files: MetadataFiles;
  const seen: Seen[] = [];
  /** GetFiles calls the stand-in holds unanswered until the test ends. */
  const held: (() => void)[] = [];

  function record<Req>(call: ServerUnaryCall<Req, unknown>) {
    seen.push({
      request: call.request,
      authorization: call.metadata.get('authorization')[0],
      deadline: call.getDeadline(),
    });
  }

  beforeAll(async () => {
    server = new Server();
    server.addService(metadata.MetadataServiceService, {
      listChanges: (
        call: ServerUnaryCall<metadata.ListChangesRequest, metadata.ListChangesResponse>,
        callback: sendUnaryData<metadata.ListChangesResponse>,
      ) => {
        record(call);
        callback(null, {
          entries: [{ seq: 8, changes: [fileEntry('a', 2), fileEntry('b', 3, true)] }],
          cursor: 8,
          hasMore: true,
        });
      },
      getFiles: (
        call: ServerUnaryCall<metadata.GetFilesRequest, metadata.GetFilesResponse>,
        callback: sendUnaryData<metadata.GetFilesResponse>,
      ) => {
        record(call);
        const answer = () => callback(null, { entries: [fileEntry('x', 1)], pathsAnswered: 1 });
        if (call.request.paths.includes('hold')) held.push(answer);
        else answer();
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    client = new metadata.MetadataServiceClient(`127.0.0.1:${port}`, insecureCredentials());
    files = new MetadataFiles(client);
  });

  afterAll(async () => {
    for (const answer of held) answer();
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const budgetOf = (signal = new AbortController().signal): CallBudget => ({
    accessToken: 'token-1',
    deadline: new Date(Date.now() + 20_000),
    signal,
  });

  it("asks ListChanges with the caller's token and deadline and maps the page", async () => {
    const budget = budgetOf();
    const page = await files.changes(NS, 7, 1000, budget);
    expect(page).toEqual({
      records: [
        {
          seq: 8,
          changes: [
            { path: 'a', version: 2, deleted: false, contentHash: A, entry: fileEntry('a', 2) },
            { path: 'b', version: 3, deleted: true, contentHash: '', entry: fileEntry('b', 3, true) },
          ],
        },
      ],
      cursor: 8,
      hasMore: true,
    });
    const call = seen.at(-1)!;
    expect(call.request).toEqual({ namespaceId: NS, afterCursor: 7, limit: 1000 });
    expect(call.authorization).toBe('Bearer token-1');
    // The server sees the caller's deadline (to the millisecond, give or take the clock's rounding).
    expect(Math.abs(new Date(call.deadline as Date).getTime() - budget.deadline.getTime())).toBeLessThan(50);
  });

  it('asks GetFiles for the given paths and maps the answer', async () => {
    const answer = await files.currentEntries(NS, ['x', 'y'], budgetOf());
    expect(answer).toEqual({
      entries: [{ path: 'x', version: 1, deleted: false, contentHash: A, entry: fileEntry('x', 1) }],
      pathsAnswered: 1,
    });
    expect(seen.at(-1)).toMatchObject({ request: { namespaceId: NS, paths: ['x', 'y'] } });
  });

  it("ends a metadata call when the caller's call is cancelled", async () => {
    const controller = new AbortController();
    const pending = files.currentEntries(NS, ['hold'], budgetOf(controller.signal));
    while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(pending).rejects.toMatchObject<Partial<ServiceError>>({ code: status.CANCELLED });
    // A later call for the same cancelled caller does not even start its wait.
    await expect(files.changes(NS, 7, 1000, budgetOf(controller.signal))).rejects.toMatchObject<
      Partial<ServiceError>
    >({ code: status.CANCELLED });
  });

  it("ends a metadata call at the caller's deadline", async () => {
    const budget = { ...budgetOf(), deadline: new Date(Date.now() + 200) };
    await expect(files.currentEntries(NS, ['hold'], budget)).rejects.toMatchObject<Partial<ServiceError>>({
      code: status.DEADLINE_EXCEEDED,
    });
  });
});
