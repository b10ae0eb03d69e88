// Unit tier: a real grpc-js server on 127.0.0.1:0 whose one method never answers, and a real
// generated client; nothing else.
import { Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { metadata } from './index';
import { insecureCredentials, unary } from './client';

describe('unary', () => {
  let server: Server;
  let client: metadata.MetadataServiceClient;
  const pending: (() => void)[] = [];

  beforeAll(async () => {
    server = new Server();
    server.addService(metadata.MetadataServiceService, {
      // Holds every call until the test ends, so only the caller's cancellation can end it.
      getFiles: (_call: unknown, callback: (error: null, response: metadata.GetFilesResponse) => void) => {
        pending.push(() => callback(null, { entries: [], pathsAnswered: 0 }));
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    client = new metadata.MetadataServiceClient(`127.0.0.1:${port}`, insecureCredentials());
  });

  afterAll(async () => {
    for (const answer of pending) answer();
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const getFiles = (signal: AbortSignal) =>
    unary(client.getFiles.bind(client), { namespaceId: 'ns', paths: ['a'] }, { timeoutMs: 30_000, signal });

  it('cancels the call when its signal aborts', async () => {
    const controller = new AbortController();
    const call = getFiles(controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(call).rejects.toMatchObject<Partial<ServiceError>>({ code: status.CANCELLED });
  });

  it('cancels at once when the signal aborted before the call', async () => {
    const started = Date.now();
    await expect(getFiles(AbortSignal.abort())).rejects.toMatchObject<Partial<ServiceError>>({
      code: status.CANCELLED,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('leaves no listener on the signal once the call ended', async () => {
    const controller = new AbortController();
    const added = jest.spyOn(controller.signal, 'addEventListener');
    const removed = jest.spyOn(controller.signal, 'removeEventListener');
    const held = pending.length;
    const call = getFiles(controller.signal);
    // Answered once the server holds it: a fixed wait lost the race on a busy machine.
    while (pending.length === held) await new Promise((resolve) => setTimeout(resolve, 5));
    pending.pop()!();
    await expect(call).resolves.toEqual({ entries: [], pathsAnswered: 0 });
    expect(removed).toHaveBeenCalledWith('abort', added.mock.calls[0]?.[1]);
  });
});
