import type { ServiceName } from './tables';

/** Where each service listens: gRPC and Prometheus metrics. Clients, the NLB and the local stack read these. */
export const SERVICE_PORTS = {
  auth: { grpc: 50051, metrics: 9461 },
  metadata: { grpc: 50052, metrics: 9462 },
  'sync-diff': { grpc: 50053, metrics: 9463 },
  notifier: { grpc: 50054, metrics: 9464 },
} as const satisfies Record<ServiceName, { grpc: number; metrics: number }>;

export const SERVICE_NAMES = Object.keys(SERVICE_PORTS) as ServiceName[];

/** Local AWS emulators started by `npm start` and by the integration tests. */
export const LOCAL_EMULATOR_PORTS = {
  /** moto_server: S3, STS, IAM, SQS. */
  moto: 4566,
  /** DynamoDB Local. */
  dynamodb: 8000,
  /** aws-ses-v2-local, with its mailbox at GET / and GET /store. */
  ses: 8005,
} as const;

export const DEFAULT_REGION = 'us-east-1';
