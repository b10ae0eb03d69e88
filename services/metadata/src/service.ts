import { metadata } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import {
  createLogger,
  connectTokenVerifier,
  createMetrics,
  implement,
  startGrpcService,
  type Logger,
  type RunningService,
} from '@filesync/server-kit';
import { createAwsClients } from './adapters/aws-clients';
import { DynamoKnownBlocks } from './adapters/dynamo-known-blocks';
import { DynamoMetadataStore } from './adapters/dynamo-metadata-store';
import { DynamoOutbox } from './adapters/dynamo-outbox';
import { S3BlockStorage } from './adapters/s3-block-storage';
import { SqsEventQueue } from './adapters/sqs-event-queue';
import { loadMetadataConfig } from './config';
import { BlockChecker } from './domain/block-checker';
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
  const auth = connectTokenVerifier(config.authAddress);
  const store = new DynamoMetadataStore(aws.documents, {
    metadata: config.metadataTable,
    outbox: config.outboxTable,
  });
  const blocks = new BlockChecker(
    new DynamoKnownBlocks(aws.documents, config.metadataTable),
    new S3BlockStorage(aws.s3, config.blocksBucket),
  );
  const relay = new OutboxRelay(
    new DynamoOutbox(aws.documents, config.outboxTable),
    new SqsEventQueue(aws.sqs, config.changeEventsQueueUrl),
    logger.child({ component: 'outbox-relay' }),
  );
  const committer = new Committer({
    store,
    blocks,
    clock: { now: () => Date.now() },
    maxItemsPerTransaction: LIMITS.maxItemsPerTransaction,
    retentionMs: config.retentionDays * 24 * 60 * 60 * 1000,
    onCommitted: () => relay.kick(),
  });
  const service = new MetadataService(store, committer, blocks);

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
