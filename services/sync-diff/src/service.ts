import { channelOptions, metadata } from '@filesync/contracts';
import {
  connectTokenVerifier,
  peerCredentials,
  createLogger,
  createMetrics,
  implement,
  startGrpcService,
  type RunningService,
} from '@filesync/server-kit';
import { MetadataFiles } from './adapters/metadata-files';
import { loadSyncDiffConfig } from './config';
import { guardedSyncDiffDefinition } from './request-guard';
import { createHandlers } from './handlers';

export const SERVICE_NAME = 'filesync.syncdiff.v1.SyncDiffService';

/** Starts sync-diff from an environment; main.ts and the local stack both call this. */
export async function start(env: NodeJS.ProcessEnv): Promise<RunningService> {
  const config = loadSyncDiffConfig(env);
  const logger = createLogger('sync-diff', config.logLevel);
  const metrics = createMetrics('sync-diff');

  const peers = peerCredentials(config);
  const keys = connectTokenVerifier(config.authAddress, peers);
  const metadataClient = new metadata.MetadataServiceClient(
    config.metadataAddress,
    peers,
    channelOptions(metadata.MetadataServiceClient.serviceName),
  );

  const handlers = createHandlers({
    files: new MetadataFiles(metadataClient),
    idleTimeoutMs: config.diffIdleTimeoutMs,
    streamsPerUser: config.diffStreamsPerUser,
  });

  return startGrpcService({
    serviceName: 'sync-diff',
    settings: config,
    logger,
    metrics,
    services: [
      {
        name: SERVICE_NAME,
        definition: guardedSyncDiffDefinition,
        implementation: implement(guardedSyncDiffDefinition, handlers, {
          logger,
          metrics,
          verifier: keys.verifier,
        }),
      },
    ],
    onShutdown: async () => {
      metadataClient.close();
      keys.close();
    },
  });
}
