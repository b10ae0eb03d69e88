import { z } from 'zod';
import { SERVICE_PORTS } from '@filesync/resources';
import { grpcTarget, loadConfig, portVar, serviceEnv } from '@filesync/server-kit';

export const syncDiffConfigSchema = z.object({
  ...serviceEnv,
  FILESYNC_GRPC_PORT: portVar(SERVICE_PORTS['sync-diff'].grpc),
  FILESYNC_METRICS_PORT: portVar(SERVICE_PORTS['sync-diff'].metrics),
  FILESYNC_METADATA_ADDRESS: grpcTarget(),
  FILESYNC_AUTH_ADDRESS: grpcTarget(),
});

export interface SyncDiffConfig {
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
  /** host:port of the metadata service: the only source of server state. */
  readonly metadataAddress: string;
  /** host:port of the auth service, which publishes the token signing keys. */
  readonly authAddress: string;
}

/** Reads and validates the environment; throws ConfigError naming every wrong variable. */
export function loadSyncDiffConfig(env: NodeJS.ProcessEnv): SyncDiffConfig {
  const parsed = loadConfig(syncDiffConfigSchema, env);
  return {
    host: parsed.FILESYNC_BIND_HOST,
    port: parsed.FILESYNC_GRPC_PORT,
    metricsPort: parsed.FILESYNC_METRICS_PORT,
    logLevel: parsed.FILESYNC_LOG_LEVEL,
    shutdownGraceMs: parsed.FILESYNC_SHUTDOWN_GRACE_MS,
    metadataAddress: parsed.FILESYNC_METADATA_ADDRESS,
    authAddress: parsed.FILESYNC_AUTH_ADDRESS,
  };
}
