import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  BLOCKS_BUCKET,
  CHANGE_EVENTS_QUEUE,
  NAMESPACE_ADVANCED_TOPIC,
  RETENTION,
  SERVICE_NAMES,
  TABLES,
  TLS_ENV,
  type ServiceName,
} from '@filesync/resources';
import { LOCAL_CREDENTIALS, type BootstrappedResources } from './bootstrap';
import type { EmulatorEndpoints } from './emulators';
import { checkServing, healthCredentials } from './health';
import { assertPortsFree, waitUntil } from './ports';
import { startProcess, stopAll, type LogSink, type ManagedProcess } from './processes';
import { nodeBinary, repoRoot } from './repo';
import type { LocalTlsFiles } from './tls';

export interface ServiceAddress {
  readonly grpc: number;
  /** Prometheus port; 0 lets the system pick one (tests). */
  readonly metrics: number;
}

export type ServicePortMap = Readonly<Record<ServiceName, ServiceAddress>>;

/** Ports of the four services: gRPC at basePort+0..3 in SERVICE_NAMES order. */
export function servicePorts(basePort: number, metricsBasePort?: number): ServicePortMap {
  return Object.fromEntries(
    SERVICE_NAMES.map((name, index) => [
      name,
      { grpc: basePort + index, metrics: metricsBasePort === undefined ? 0 : metricsBasePort + index },
    ]),
  ) as unknown as ServicePortMap;
}

/** Bundles every service with esbuild into dist/services/<name>/main.mjs; resolves with its report line. */
export function buildServices(root = repoRoot()): Promise<string> {
  return runBuildScript('libs/local-stack/bin/build-services.mjs', 'the services', root);
}

/**
 * Bundles the `filesync` CLI into libs/sync-client/dist, so node_modules/.bin/filesync runs the
 * bundle as an installed client does, not its sources through tsx (libs/sync-client/tools/bundle.mjs).
 */
export function buildClient(root = repoRoot()): Promise<string> {
  return runBuildScript('libs/sync-client/tools/bundle.mjs', 'the filesync CLI', root);
}

async function runBuildScript(script: string, what: string, root: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(nodeBinary(root), [join(root, script)], { cwd: root });
    return stdout.trim();
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`building ${what} failed:\n${stderr?.trim() || String(error)}`);
  }
}

export function serviceBundle(name: ServiceName, root = repoRoot()): string {
  return join(root, 'dist', 'services', name, 'main.mjs');
}

export interface ServiceEnvOptions {
  readonly ports: ServicePortMap;
  readonly emulators: EmulatorEndpoints;
  readonly resources: BootstrappedResources;
  readonly signingKey: string;
  readonly logLevel?: string;
  /**
   * FILESYNC_RETENTION_DAYS for metadata, as the user wrote it (`FILESYNC_RETENTION_DAYS=0 npm
   * start`): the service validates it; absent = its default.
   */
  readonly retentionDays?: string;
  /** Serve TLS with these files (and call each other over TLS, trusting the CA); absent = plaintext. */
  readonly tls?: LocalTlsFiles;
}

/** The environment of one service process: the contract between the stack and the services' config. */
export function serviceEnvironment(name: ServiceName, options: ServiceEnvOptions): Record<string, string> {
  const { ports, emulators, resources } = options;
  const host = '127.0.0.1';
  const env: Record<string, string> = {
    FILESYNC_BIND_HOST: host,
    FILESYNC_GRPC_PORT: String(ports[name].grpc),
    FILESYNC_METRICS_PORT: String(ports[name].metrics),
    FILESYNC_LOG_LEVEL: options.logLevel ?? 'info',
    FILESYNC_SHUTDOWN_GRACE_MS: '2000',
    AWS_REGION: resources.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL: emulators.moto,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb,
    AWS_ENDPOINT_URL_SESV2: emulators.ses,
    AWS_ENDPOINT_URL_SES: emulators.ses,
    [TABLES.auth.envVar]: resources.tables.auth,
    [TABLES.metadata.envVar]: resources.tables.metadata,
    [TABLES.outbox.envVar]: resources.tables.outbox,
    [TABLES.notifier.envVar]: resources.tables.notifier,
    [BLOCKS_BUCKET.envVar]: resources.bucket,
    FILESYNC_S3_FORCE_PATH_STYLE: 'true',
    [CHANGE_EVENTS_QUEUE.urlEnvVar]: resources.queueUrl,
    FILESYNC_AUTH_ADDRESS: `${host}:${ports.auth.grpc}`,
    FILESYNC_METADATA_ADDRESS: `${host}:${ports.metadata.grpc}`,
    FILESYNC_POLL_WAIT_SECONDS: '1',
  };
  if (options.tls) {
    env[TLS_ENV.certFile] = options.tls.certFile;
    env[TLS_ENV.keyFile] = options.tls.keyFile;
    env[TLS_ENV.caFile] = options.tls.caFile;
  }
  if (name === 'metadata') {
    env[NAMESPACE_ADVANCED_TOPIC.arnEnvVar] = resources.advanceTopicArn;
    if (options.retentionDays !== undefined) env[RETENTION.envVar] = options.retentionDays;
  }
  if (name === 'auth') {
    env.FILESYNC_SIGNING_KEY = options.signingKey;
    env.FILESYNC_STORAGE_ROLE_ARN = resources.storageRoleArn;
    env.FILESYNC_S3_PUBLIC_ENDPOINT = emulators.moto;
  }
  return env;
}

/** The parent's environment without AWS or filesync settings that could point a service elsewhere. */
function inheritedEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('FILESYNC_')),
  );
}

export interface RunningServices {
  stop(): Promise<void>;
}

export interface StartServicesOptions extends ServiceEnvOptions {
  readonly sink: LogSink;
  readonly timeoutMs?: number;
}

/** Starts the four bundled services as separate processes and waits until each reports SERVING. */
export async function startServices(options: StartServicesOptions): Promise<RunningServices> {
  const root = repoRoot();
  const portsToCheck: Record<string, number> = {};
  for (const name of SERVICE_NAMES) {
    portsToCheck[`${name} gRPC`] = options.ports[name].grpc;
    if (options.ports[name].metrics) portsToCheck[`${name} metrics`] = options.ports[name].metrics;
  }
  await assertPortsFree(portsToCheck);
  for (const name of SERVICE_NAMES) {
    if (!existsSync(serviceBundle(name, root))) {
      throw new Error(`${serviceBundle(name, root)} is missing: run \`npm run build:services\` first`);
    }
  }
  const node = nodeBinary(root);
  const credentials = healthCredentials(options.tls?.caFile);
  const started: ManagedProcess[] = [];
  try {
    for (const name of SERVICE_NAMES) {
      started.push(
        startProcess({
          name,
          command: node,
          args: ['--enable-source-maps', serviceBundle(name, root)],
          cwd: root,
          env: { ...inheritedEnvironment(), ...serviceEnvironment(name, options) },
          sink: options.sink,
        }),
      );
    }
    await Promise.all(
      started.map((managed) => {
        const address = `127.0.0.1:${options.ports[managed.name as ServiceName].grpc}`;
        return waitUntil(
          `${managed.name} at ${address}`,
          () => checkServing(address, '', 1_000, credentials),
          {
            timeoutMs: options.timeoutMs ?? 30_000,
            intervalMs: 150,
            aborted: () => {
              const reason = managed.exitReason();
              return reason && `${reason}\n${managed.recentOutput()}`;
            },
          },
        );
      }),
    );
  } catch (error) {
    await stopAll(started, 2_000);
    throw error;
  }
  return { stop: () => stopAll(started, 5_000) };
}

/** A port the system has free on 127.0.0.1 now (for a process started right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface ReplicaOptions extends ServiceEnvOptions {
  readonly sink: LogSink;
  /** gRPC port of the replica; its metrics port is picked by the system. */
  readonly grpcPort: number;
  readonly timeoutMs?: number;
}

/**
 * Starts one more process of a service beside a running stack (same emulators, resources and
 * peers), as a second task behind the load balancer would run: e.g. a second metadata to test
 * push between tasks. Waits until it reports SERVING.
 */
export async function startServiceReplica(
  name: ServiceName,
  options: ReplicaOptions,
): Promise<ManagedProcess> {
  const root = repoRoot();
  const env = {
    ...inheritedEnvironment(),
    ...serviceEnvironment(name, options),
    FILESYNC_GRPC_PORT: String(options.grpcPort),
    FILESYNC_METRICS_PORT: '0',
  };
  const managed = startProcess({
    name: `${name}-replica`,
    command: nodeBinary(root),
    args: ['--enable-source-maps', serviceBundle(name, root)],
    cwd: root,
    env,
    sink: options.sink,
  });
  const address = `127.0.0.1:${options.grpcPort}`;
  try {
    await waitUntil(`${managed.name} at ${address}`, () => checkServing(address), {
      timeoutMs: options.timeoutMs ?? 30_000,
      intervalMs: 150,
      aborted: () => {
        const reason = managed.exitReason();
        return reason && `${reason}\n${managed.recentOutput()}`;
      },
    });
  } catch (error) {
    await managed.stop(2_000);
    throw error;
  }
  return managed;
}
