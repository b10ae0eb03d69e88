import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Server as HttpServer } from 'node:http';
import { descriptorSetBase64 } from '@filesync/contracts';
import type { ServiceSettings } from '../config';
import type { Logger } from '../logger';
import { serveMetrics, type ServiceMetrics } from '../metrics';
import { withUndecodableRequests } from './decoding';

export interface ServiceRegistration {
  /** Fully qualified name, e.g. "filesync.auth.v1.AuthService": also the health check service name. */
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

/** Where and how the server runs: every service's config carries these (see ServiceSettings). */
export type ServerSettings = Pick<
  ServiceSettings,
  'host' | 'port' | 'metricsPort' | 'shutdownGraceMs' | 'drainDelayMs' | 'tls'
>;

export interface GrpcServiceOptions {
  readonly serviceName: string;
  readonly settings: ServerSettings;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly services: readonly ServiceRegistration[];
  /**
   * Called once the drain starts (after drainDelayMs, as the server stops taking calls): ends the
   * calls that would never end by themselves, such as push streams, so that their clients
   * reconnect to another task instead of holding the drain for the whole grace period.
   */
  readonly onDrain?: () => void;
  /** Released after the server stopped taking calls: pollers, relays, SDK clients. */
  readonly onShutdown?: () => Promise<void>;
}

export interface RunningService {
  readonly port: number;
  readonly metricsPort: number;
  /** Reports NOT_SERVING, lets in-flight calls finish within the grace period, then stops. */
  shutdown(reason: string): Promise<void>;
}

/**
 * Starts a gRPC server with health checking (grpc.health.v1), reflection and a Prometheus
 * endpoint, and reports SERVING once it listens.
 */
export async function startGrpcService(options: GrpcServiceOptions): Promise<RunningService> {
  const { logger, settings } = options;
  const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  const descriptors = loadFileDescriptorSetFromBuffer(Buffer.from(descriptorSetBase64, 'base64'));
  new ReflectionService(descriptors).addToServer(server);
  for (const service of options.services) {
    server.addService(withUndecodableRequests(service.definition), service.implementation);
    health.setStatus(service.name, 'NOT_SERVING');
  }

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${settings.host}:${settings.port}`,
      settings.tls
        ? ServerCredentials.createSsl(
            null,
            [{ cert_chain: settings.tls.certChain, private_key: settings.tls.privateKey }],
            false,
          )
        : ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  let serving = false;
  let metricsServer: HttpServer;
  try {
    metricsServer = await serveMetrics(
      options.metrics.registry,
      settings.host,
      settings.metricsPort,
      () => serving,
    );
  } catch (error) {
    server.forceShutdown();
    throw error;
  }
  const metricsAddress = metricsServer.address();
  const metricsPort =
    typeof metricsAddress === 'object' && metricsAddress ? metricsAddress.port : settings.metricsPort;

  const setAll = (state: 'SERVING' | 'NOT_SERVING') => {
    serving = state === 'SERVING';
    health.setStatus('', state);
    for (const service of options.services) health.setStatus(service.name, state);
  };
  setAll('SERVING');
  logger.info(
    { port, metricsPort, host: settings.host, tls: settings.tls !== undefined },
    `${options.serviceName} serving`,
  );

  let stopping: Promise<void> | undefined;
  return {
    port,
    metricsPort,
    shutdown(reason) {
      stopping ??= (async () => {
        logger.info({ reason }, 'shutting down: draining in-flight calls');
        setAll('NOT_SERVING');
        if (settings.drainDelayMs > 0)
          await new Promise((resolve) => setTimeout(resolve, settings.drainDelayMs));
        options.onDrain?.();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            logger.warn('grace period over: cancelling remaining calls');
            server.forceShutdown();
            resolve();
          }, settings.shutdownGraceMs);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        await options.onShutdown?.();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}

/** Shuts the service down on SIGTERM or SIGINT, and exits once it stopped. */
export function shutdownOnSignals(service: RunningService, logger: Logger): void {
  const onSignal = (signal: NodeJS.Signals) => {
    service.shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
