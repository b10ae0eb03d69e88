import type { ServiceName } from './tables';

/** Where each service listens: gRPC and Prometheus metrics. Clients, the NLB and the local stack read these. */
export const SERVICE_PORTS = {
  auth: { grpc: 50051, metrics: 9461 },
  metadata: { grpc: 50052, metrics: 9462 },
  'sync-diff': { grpc: 50053, metrics: 9463 },
  notifier: { grpc: 50054, metrics: 9464 },
} as const satisfies Record<ServiceName, { grpc: number; metrics: number }>;

export const SERVICE_NAMES = Object.keys(SERVICE_PORTS) as ServiceName[];

/**
 * The variables of a service's own TLS, all optional: its certificate chain and private key (PEM
 * files; both or neither: with them it serves TLS and calls the other services over TLS), and a
 * CA file it trusts in those services beside the system roots.
 */
export const TLS_ENV = {
  certFile: 'FILESYNC_TLS_CERT_FILE',
  keyFile: 'FILESYNC_TLS_KEY_FILE',
  caFile: 'FILESYNC_TLS_CA_FILE',
} as const;

/** Local AWS emulators started by `npm start` and by the integration tests. */
export const LOCAL_EMULATOR_PORTS = {
  /** moto_server: S3, STS, IAM, SQS. */
  moto: 4566,
  /** DynamoDB Local. */
  dynamodb: 8000,
  /** aws-ses-v2-local, with its mailbox at GET / and GET /store. */
  ses: 8005,
} as const;

/**
 * Environment for the DynamoDB Local JVM (it takes no JVM flags of its own). The emulator lives
 * for minutes on a 2-core machine: the C1 JIT alone reaches steady speed at once, while C2's
 * compile threads took about 9 of its 22 CPU seconds during a 10,000-file first sync (issue 7).
 */
export const DYNAMODB_LOCAL_JAVA_ENV = { JDK_JAVA_OPTIONS: '-XX:TieredStopAtLevel=1' } as const;

/**
 * Runs `start` (a synchronous spawn, which copies process.env at the call) with `env` added to
 * the environment, then puts the environment back: for libraries that spawn without an env option.
 */
export function withEnvironment<T>(env: Readonly<Record<string, string>>, start: () => T): T {
  const saved = Object.keys(env).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, env);
  try {
    return start();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

export const DEFAULT_REGION = 'us-east-1';
