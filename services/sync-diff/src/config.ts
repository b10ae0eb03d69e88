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
});

export interface SyncDiffConfig extends ServiceSettings {
  /** host:port of the metadata service: the only source of server state. */
  readonly metadataAddress: string;
  /** host:port of the auth service, which publishes the token signing keys. */
  readonly authAddress: string;
}

/** Reads and validates the environment; throws ConfigError naming every wrong variable. */
export function loadSyncDiffConfig(env: NodeJS.ProcessEnv): SyncDiffConfig {
  const parsed = loadConfig(syncDiffConfigSchema, env);
  return {
    ...serviceSettings(parsed),
    metadataAddress: parsed.FILESYNC_METADATA_ADDRESS,
    authAddress: parsed.FILESYNC_AUTH_ADDRESS,
  };
}
