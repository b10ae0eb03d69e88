import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly handled: Counter<'method' | 'code'>;
  readonly latency: Histogram<'method'>;
}

export function createMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    handled: new Counter({
      name: 'grpc_server_handled_total',
      help: 'RPCs completed, by method and status code.',
      labelNames: ['method', 'code'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'RPC handling time in seconds.',
      labelNames: ['method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

/**
 * Serves GET /metrics in the Prometheus text format, and GET /healthz: 200 while the gRPC server
 * is SERVING, 503 otherwise, for load balancers that cannot speak grpc.health.v1 (an NLB).
 */
export async function serveMetrics(
  registry: Registry,
  host: string,
  port: number,
  isServing: () => boolean = () => true,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/healthz') {
      const serving = isServing();
      response
        .writeHead(serving ? 200 : 503, { 'content-type': 'text/plain' })
        .end(serving ? 'SERVING\n' : 'NOT_SERVING\n');
      return;
    }
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
