import { metadata } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import {
  createLogger,
  connectTokenVerifier,
  peerCredentials,
  createMetrics,
  implement,
  startGrpcService,
  type Logger,
  type RunningService,
} from '@filesync/server-kit';
import { createAwsClients } from './adapters/aws-clients';
import { DynamoBlockIndex } from './adapters/dynamo-block-index';
import { DynamoMetadataStore } from './adapters/dynamo-metadata-store';
import { DynamoOutbox } from './adapters/dynamo-outbox';
import { S3PackStorage } from './adapters/s3-pack-storage';
import { SqsEventQueue } from './adapters/sqs-event-queue';
import { loadMetadataConfig } from './config';
import { Blocks } from './domain/blocks';
import { Committer } from './domain/commit';
import { MetadataService } from './domain/metadata-service';
import { metadataHandlers } from './handlers';
import { OutboxRelay } from './relay/outbox-relay';

const SERVICE_NAME = 'filesync.metadata.v1.MetadataService';

/** Composition root of the metadata service: config, adapters, domain, handlers, server. */
export async function start(env: NodeJS.ProcessEnv): Promise<RunningService & { logger: Logger }> {
  const config = loadMetadataConfig(env);
  const logger = createLogger('metadata', config.logLevel);
  const metrics = createMetrics('metadata');

  const aws = createAwsClients(config);
  const auth = connectTokenVerifier(config.authAddress, peerCredentials(config));
  const retentionMs = config.retentionDays * 24 * 60 * 60 * 1000;
  const store = new DynamoMetadataStore(
    aws.documents,
    { metadata: config.metadataTable, outbox: config.outboxTable },
    { retentionMs },
  );
  const clock = { now: () => Date.now() };
  const blocks = new Blocks(
    new DynamoBlockIndex(aws.documents, config.metadataTable),
    new S3PackStorage(aws.s3, config.blocksBucket),
    clock,
    // Grace 0 (tests only) protects nothing, so it bounds nothing either.
    config.gcGraceSeconds > 0 ? (config.gcGraceSeconds * 1000) / 2 : undefined,
  );
  const relay = new OutboxRelay(
    new DynamoOutbox(aws.documents, config.outboxTable),
    new SqsEventQueue(aws.sqs, config.changeEventsQueueUrl),
    logger.child({ component: 'outbox-relay' }),
  );
  const committer = new Committer({
    store,
    blocks,
    clock,
    maxItemsPerTransaction: LIMITS.maxItemsPerTransaction,
    retentionMs,
    onCommitted: () => relay.kick(),
  });
  const service = new MetadataService(store, committer, blocks, retentionMs);

  relay.start();
  try {
    const running = await startGrpcService({
      serviceName: SERVICE_NAME,
      settings: config,
      logger,
      metrics,
      services: [
        {
          name: SERVICE_NAME,
          definition: metadata.MetadataServiceService,
          implementation: implement(metadata.MetadataServiceService, metadataHandlers(service), {
            logger,
            metrics,
            verifier: auth.verifier,
          }),
        },
      ],
      onShutdown: async () => {
        // Events of calls that finished during the drain still go out before the clients close.
        await relay.stop();
        await relay
          .round()
          .catch((error: unknown) => logger.warn({ err: error }, 'final outbox round failed'));
        auth.close();
        aws.destroy();
      },
    });
    return Object.assign(running, { logger });
  } catch (error) {
    await relay.stop();
    auth.close();
    aws.destroy();
    throw error;
  }
}
