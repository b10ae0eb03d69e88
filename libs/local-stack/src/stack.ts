import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_EMULATOR_PORTS, SERVICE_NAMES, SERVICE_PORTS, type ServiceName } from '@filesync/resources';
import { bootstrap, type BootstrappedResources } from './bootstrap';
import { startEmulators, type EmulatorEndpoints, type EmulatorPorts } from './emulators';
import { consoleSink, type LogSink } from './processes';
import { generateSigningKey, persistentSigningKey } from './signing-key';
import { servicePorts, startServices } from './services';
import { ensureLocalTls } from './tls';

export interface StackOptions {
  /** gRPC port of auth; metadata, sync-diff and notifier follow at +1, +2, +3. */
  readonly basePort?: number;
  /** Prometheus port of auth, the others following; absent = ports picked by the system. */
  readonly metricsBasePort?: number;
  readonly emulatorPorts?: EmulatorPorts;
  /** Where the persistent signing key lives. */
  readonly stateDir: string;
  /**
   * Keep the signing key across runs, so access tokens issued before a restart still verify.
   * The emulators themselves start empty every time: moto keeps S3 and SQS in memory only, and a
   * DynamoDB that outlived its blocks would describe files that no longer exist.
   */
  readonly persistent?: boolean;
  readonly sink?: LogSink;
  readonly logLevel?: string;
  /** See ServiceEnvOptions. */
  readonly retentionDays?: string;
  /** See BootstrapOptions. */
  readonly queueVisibilityTimeoutSeconds?: number;
  /** Serve TLS with a CA and certificate kept in `<stateDir>/tls` (ensureLocalTls). */
  readonly tls?: boolean;
}

export interface StackEndpoints {
  readonly emulators: EmulatorEndpoints;
  /** host:port of each service's gRPC server. */
  readonly services: Readonly<Record<ServiceName, string>>;
  readonly metrics: Readonly<Record<ServiceName, number>>;
}

export interface RunningStack {
  readonly endpoints: StackEndpoints;
  /** What clients pass as `server`: [grpcs://]host:port of auth, the other services at the next ports. */
  readonly server: string;
  /** The CA clients trust (`--ca`) when the stack serves TLS. */
  readonly caFile: string | undefined;
  /** aws-ses-v2-local's mailbox page; GET <mailboxUrl>store lists sent mail as JSON. */
  readonly mailboxUrl: string;
  readonly resources: BootstrappedResources;
  stop(): Promise<void>;
}

export function signingKeyFile(stateDir: string): string {
  return join(stateDir, 'signing-key.pem');
}

/** Starts the emulators, creates the resources and starts the four services. */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const basePort = options.basePort ?? SERVICE_PORTS.auth.grpc;
  const sink = options.sink ?? consoleSink;
  mkdirSync(options.stateDir, { recursive: true });
  const signingKey = options.persistent
    ? persistentSigningKey(signingKeyFile(options.stateDir))
    : generateSigningKey();
  const ports = servicePorts(basePort, options.metricsBasePort);
  const tls = options.tls ? ensureLocalTls(join(options.stateDir, 'tls')) : undefined;

  const emulators = await startEmulators({ ports: options.emulatorPorts ?? LOCAL_EMULATOR_PORTS, sink });
  try {
    const resources = await bootstrap(emulators.endpoints, {
      ...(options.queueVisibilityTimeoutSeconds
        ? { queueVisibilityTimeoutSeconds: options.queueVisibilityTimeoutSeconds }
        : {}),
    });
    const services = await startServices({
      ports,
      emulators: emulators.endpoints,
      resources,
      signingKey,
      sink,
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      ...(options.retentionDays !== undefined ? { retentionDays: options.retentionDays } : {}),
      ...(tls ? { tls } : {}),
    });
    const endpoints: StackEndpoints = {
      emulators: emulators.endpoints,
      services: Object.fromEntries(
        SERVICE_NAMES.map((name) => [name, `127.0.0.1:${ports[name].grpc}`]),
      ) as Record<ServiceName, string>,
      metrics: Object.fromEntries(SERVICE_NAMES.map((name) => [name, ports[name].metrics])) as Record<
        ServiceName,
        number
      >,
    };
    let stopped: Promise<void> | undefined;
    return {
      endpoints,
      server: `${tls ? 'grpcs://' : ''}127.0.0.1:${basePort}`,
      caFile: tls?.caFile,
      mailboxUrl: `${emulators.endpoints.ses}/`,
      resources,
      stop: () => {
        // Services first, so they drain while their backends still answer.
        stopped ??= services.stop().finally(() => emulators.stop());
        return stopped;
      },
    };
  } catch (error) {
    await emulators.stop();
    throw error;
  }
}
