import { createWriteStream } from 'node:fs';
import { AbstractStartedContainer, GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import type { ServiceName } from '@filesync/resources';

/** The tag `npm run images` (deploy/images/build.mjs) gives the four service images by default. */
export const IMAGE_TAG = 'latest';

export function serviceImage(service: ServiceName, tag = IMAGE_TAG): string {
  return `filesync/${service}:${tag}`;
}

/**
 * One filesync service image, started the way ECS starts it: configuration from the environment
 * only, the image's own health probe deciding when it is ready.
 *
 * Host networking: the service binds FILESYNC_BIND_HOST:FILESYNC_GRPC_PORT on this machine, so
 * the emulators and the other services stay on 127.0.0.1 and no bridge network is needed.
 */
export class FilesyncServiceContainer extends GenericContainer {
  private grpcPort = 0;

  constructor(
    readonly service: ServiceName,
    image = serviceImage(service),
  ) {
    super(image);
    this.withNetworkMode('host')
      // The image's HEALTHCHECK command (the grpc.health.v1 probe), polled every second instead of
      // every 15 s: the same verdict, sooner. Docker 20.10 has no start-interval for this.
      .withHealthCheck({
        test: ['CMD', '/nodejs/bin/node', '/app/health-probe.mjs'],
        interval: 1_000,
        timeout: 3_000,
        retries: 30,
        startPeriod: 0,
      })
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(60_000);
  }

  /** The service's environment, exactly as its task definition would carry it. */
  withServiceEnvironment(environment: Readonly<Record<string, string>>): this {
    const port = Number(environment.FILESYNC_GRPC_PORT);
    if (!Number.isInteger(port) || port <= 0) {
      throw new Error(`${this.service}: FILESYNC_GRPC_PORT must be set (host networking needs a fixed port)`);
    }
    this.grpcPort = port;
    return this.withEnvironment({ ...environment });
  }

  /** Appends the container's output to `file`, so a failing test can be read against the service's log. */
  withLogFile(file: string): this {
    return this.withLogConsumer((stream) => stream.pipe(createWriteStream(file, { flags: 'a' })));
  }

  override async start(): Promise<StartedFilesyncService> {
    if (this.grpcPort === 0) throw new Error(`${this.service}: call withServiceEnvironment() first`);
    return new StartedFilesyncService(await super.start(), this.service, this.grpcPort);
  }
}

export class StartedFilesyncService extends AbstractStartedContainer {
  constructor(
    started: StartedTestContainer,
    readonly service: ServiceName,
    private readonly grpcPort: number,
  ) {
    super(started);
  }

  /** host:port for a gRPC channel. */
  getGrpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }
}
