// Unit tier: a real grpc-js server on 127.0.0.1:0 with a stand-in handler; no other service.
import { credentials } from '@grpc/grpc-js';
import { notifier, unary } from '@filesync/contracts';
import { createLogger } from '../logger';
import { createMetrics } from '../metrics';
import { implement } from './implement';
import { startGrpcService } from './server';

describe('startGrpcService shutdown', () => {
  it('reports NOT_SERVING during the drain delay while still answering calls, then stops', async () => {
    const logger = createLogger('test', 'silent');
    const metrics = createMetrics('test');
    const service = await startGrpcService({
      serviceName: 'test',
      settings: { host: '127.0.0.1', port: 0, metricsPort: 0, shutdownGraceMs: 1_000, drainDelayMs: 400 },
      logger,
      metrics,
      services: [
        {
          name: 'filesync.notifier.v1.NotifierService',
          definition: notifier.NotifierServiceService,
          implementation: implement(
            notifier.NotifierServiceService,
            { listDeliveries: async () => ({ deliveries: [] }) },
            { logger, metrics },
          ),
        },
      ],
    });
    const client = new notifier.NotifierServiceClient(
      `127.0.0.1:${service.port}`,
      credentials.createInsecure(),
    );
    const healthz = () =>
      fetch(`http://127.0.0.1:${service.metricsPort}/healthz`).then((response) => response.status);
    try {
      expect(await healthz()).toBe(200);
      const stopped = service.shutdown('test');
      expect(await healthz()).toBe(503);
      await expect(
        unary(client.listDeliveries.bind(client), { limit: 1 }, { timeoutMs: 2_000 }),
      ).resolves.toEqual({ deliveries: [] });
      await stopped;
      await expect(healthz()).rejects.toThrow();
    } finally {
      client.close();
    }
  });
});
