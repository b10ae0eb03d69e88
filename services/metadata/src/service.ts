import { metadata } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import {
  unavailable,
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
import { SnsSqsAdvanceFanout } from './adapters/sns-sqs-advance-fanout';
import { SqsEventQueue } from './adapters/sqs-event-queue';
import { loadMetadataConfig } from './config';
import { Blocks } from './domain/blocks';
import { Committer } from './domain/commit';
import { MetadataService } from './domain/metadata-service';
import { metadataHandlers } from './handlers';
import { WatchHub } from './domain/watch';
import { OutboxRelay } from './relay/outbox-relay';
import { watchMetrics } from './watch-metrics';

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
  // Push: a commit wakes this task's watchers of its namespace at once, and every other task's
  // through the fan-out (SNS topic, a queue per task).
  const watches = new WatchHub(LIMITS.maxWatchStreamsPerTask);
  const counters = watchMetrics(metrics.registry, watches);
  const fanout = new SnsSqsAdvanceFanout({
    sns: aws.sns,
    sqs: aws.advanceQueue,
    topicArn: config.advanceTopicArn,
    logger: logger.child({ component: 'advance-fanout' }),
    observer: counters,
  });
  const committer = new Committer({
    store,
    blocks,
    clock,
    maxItemsPerTransaction: LIMITS.maxItemsPerTransaction,
    retentionMs,
    onCommitted: (namespaceId, seq) => {
      relay.kick();
      watches.advanced({ namespaceId, seq });
      fanout.publish({ namespaceId, seq });
    },
  });
  const service = new MetadataService(store, committer, blocks, retentionMs, { hub: watches });

  relay.start();
  let fanoutStarted = false;
  try {
    await fanout.start((advance) => counters.woke(watches.advanced(advance)));
    fanoutStarted = true;
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
      // Watch streams never end by themselves: end them so their clients reconnect elsewhere.
      onDrain: () => watches.close(unavailable('the server is shutting down: watch again from your cursor')),
      onShutdown: async () => {
        await fanout.stop();
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
    if (fanoutStarted) await fanout.stop();
    await relay.stop();
    auth.close();
    aws.destroy();
    throw error;
  }
}
