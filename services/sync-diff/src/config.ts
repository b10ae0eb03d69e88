import { z } from 'zod';
import { SERVICE_PORTS } from '@filesync/resources';
import {
  grpcTarget,
  loadConfig,
  serviceEnvFor,
  serviceSettings,
  type ServiceSettings,
} from '@filesync/server-kit';

export const syncDiffConfigSchema = z.object({
  ...serviceEnvFor(SERVICE_PORTS['sync-diff']),
  FILESYNC_METADATA_ADDRESS: grpcTarget(),
  FILESYNC_AUTH_ADDRESS: grpcTarget(),
  FILESYNC_DIFF_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  FILESYNC_DIFF_STREAMS_PER_USER: z.coerce.number().int().min(1).max(1_000).default(4),
});

export interface SyncDiffConfig extends ServiceSettings {
  /** host:port of the metadata service: the only source of server state. */
  readonly metadataAddress: string;
  /** host:port of the auth service, which publishes the token signing keys. */
  readonly authAddress: string;
  /**
   * How long a Diff stream may wait for the client's next message before the server ends it: a
   * client streams its manifest from a scan it already holds, so a pause this long means it is
   * stuck or gone, and the stream's listing and memory are better given back.
   */
  readonly diffIdleTimeoutMs: number;
  /** Diff streams one user may have open at once on one server. */
  readonly diffStreamsPerUser: number;
}

/** Reads and validates the environment; throws ConfigError naming every wrong variable. */
export function loadSyncDiffConfig(env: NodeJS.ProcessEnv): SyncDiffConfig {
  const parsed = loadConfig(syncDiffConfigSchema, env);
  return {
    ...serviceSettings(parsed),
    metadataAddress: parsed.FILESYNC_METADATA_ADDRESS,
    authAddress: parsed.FILESYNC_AUTH_ADDRESS,
    diffIdleTimeoutMs: parsed.FILESYNC_DIFF_IDLE_TIMEOUT_MS,
    diffStreamsPerUser: parsed.FILESYNC_DIFF_STREAMS_PER_USER,
  };
}
