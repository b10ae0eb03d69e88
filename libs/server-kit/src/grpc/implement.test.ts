// Unit tier: a real grpc-js server on 127.0.0.1:0 and a real generated client; the handlers are
// small stand-ins, no other service or AWS is involved.
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { notifier, syncdiff, unary } from '@filesync/contracts';
import { failedPrecondition, permissionDenied } from '../errors';
import { createLogger } from '../logger';
import { createMetrics } from '../metrics';
import { implement } from './implement';
import { startGrpcService, type RunningService } from './server';

const logger = createLogger('test', 'silent');

describe('implement + startGrpcService', () => {
  let service: RunningService;
  let diffClient: syncdiff.SyncDiffServiceClient;
  let notifierClient: notifier.NotifierServiceClient;

  beforeAll(async () => {
    const metrics = createMetrics('test');
    service = await startGrpcService({
      serviceName: 'test',
      settings: { host: '127.0.0.1', port: 0, metricsPort: 0, shutdownGraceMs: 1_000, drainDelayMs: 0 },
      logger,
      metrics,
      services: [
        {
          name: 'filesync.syncdiff.v1.SyncDiffService',
          definition: syncdiff.SyncDiffServiceService,
          implementation: implement(
            syncdiff.SyncDiffServiceService,
            {
              async *diff(requests) {
                let count = 0;
                for await (const request of requests) {
                  if (request.message?.$case === 'entry' && request.message.value.path === 'forbidden') {
                    throw permissionDenied('not your namespace');
                  }
                  count += 1;
                }
                yield {
                  message: {
                    $case: 'summary',
                    value: {
                      cursor: 7,
                      entriesReceived: count,
                      actionsSent: 0,
                      fullDiffRequired: false,
                      incremental: false,
                      remoteRoot: '',
                      resumeAfter: '',
                    },
                  },
                };
              },
              async findMissingBlocks(request) {
                if (request.namespaceId === 'stale') {
                  throw failedPrecondition('base is stale', { 'current-version': '3' });
                }
                throw new Error('secret internal detail');
              },
            },
            { logger, metrics },
          ),
        },
        {
          name: 'filesync.notifier.v1.NotifierService',
          definition: notifier.NotifierServiceService,
          implementation: implement(
            notifier.NotifierServiceService,
            {
              async listDeliveries(request, context) {
                return {
                  deliveries: [
                    {
                      eventId: `limit:${request.limit}`,
                      email: context.bearerToken ?? 'none',
                      subject: '',
                      paths: [],
                      sentAtMs: 0,
                      messageId: '',
                    },
                  ],
                };
              },
            },
            { logger, metrics },
          ),
        },
      ],
    });
    const address = `127.0.0.1:${service.port}`;
    diffClient = new syncdiff.SyncDiffServiceClient(address, credentials.createInsecure());
    notifierClient = new notifier.NotifierServiceClient(address, credentials.createInsecure());
  });

  afterAll(async () => {
    diffClient.close();
    notifierClient.close();
    await service.shutdown('test done');
  });

  it('answers unary calls and passes the bearer token to the handler', async () => {
    const response = await unary(
      notifierClient.listDeliveries.bind(notifierClient),
      { limit: 5 },
      {
        timeoutMs: 5_000,
        accessToken: 'tok',
      },
    );
    expect(response.deliveries[0]).toMatchObject({ eventId: 'limit:5', email: 'tok' });
  });

  it('maps domain errors to their status with details as trailers, and hides unexpected errors', async () => {
    const stale = await unary(
      diffClient.findMissingBlocks.bind(diffClient),
      { namespaceId: 'stale', blockHashes: [] },
      {
        timeoutMs: 5_000,
      },
    ).catch((error: ServiceError) => error);
    expect(stale).toMatchObject({ code: status.FAILED_PRECONDITION, details: 'base is stale' });
    expect((stale as ServiceError).metadata.get('filesync-current-version')).toEqual(['3']);

    const internal = await unary(
      diffClient.findMissingBlocks.bind(diffClient),
      { namespaceId: 'x', blockHashes: [] },
      {
        timeoutMs: 5_000,
      },
    ).catch((error: ServiceError) => error);
    expect(internal).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
  });

  it('serves Prometheus metrics of handled calls and an HTTP health check for load balancers', async () => {
    const health = await fetch(`http://127.0.0.1:${service.metricsPort}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/grpc_server_handled_total\{[^}]*method="ListDeliveries"[^}]*code="OK"/);
  });

  function runDiff(paths: string[]) {
    return new Promise<{ messages: syncdiff.DiffResponse[]; error?: ServiceError }>((resolve) => {
      const messages: syncdiff.DiffResponse[] = [];
      const call = diffClient.diff(new Metadata(), { deadline: new Date(Date.now() + 5_000) });
      call.on('data', (message: syncdiff.DiffResponse) => messages.push(message));
      call.on('error', (error: ServiceError) => resolve({ messages, error }));
      call.on('end', () => resolve({ messages }));
      call.write({
        message: {
          $case: 'start',
          value: { namespaceId: 'ns', sinceCursor: 0, remoteRoot: '', resumeAfter: '' },
        },
      });
      for (const path of paths) {
        call.write({
          message: {
            $case: 'entry',
            value: { path, contentHash: '', size: 0, baseVersion: 0, baseContentHash: '', deleted: false },
          },
        });
      }
      call.end();
    });
  }

  it('completes a bidi stream after the client half-closes', async () => {
    const { messages, error } = await runDiff(['a', 'b']);
    expect(error).toBeUndefined();
    expect(messages).toEqual([
      {
        message: {
          $case: 'summary',
          value: {
            cursor: 7,
            entriesReceived: 3,
            actionsSent: 0,
            fullDiffRequired: false,
            incremental: false,
            remoteRoot: '',
            resumeAfter: '',
          },
        },
      },
    ]);
  });

  it('ends a bidi stream with the mapped status when the handler throws', async () => {
    const { error } = await runDiff(['forbidden']);
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED, details: 'not your namespace' });
  });
});
