import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { notifier } from '@filesync/contracts';
import {
  connectTokenVerifier,
  awsClientConfig,
  createLogger,
  createMetrics,
  implement,
  peerCredentials,
  startGrpcService,
  type RunningService,
} from '@filesync/server-kit';
import { DynamoDeliveryLedger } from './adapters/dynamo-delivery-ledger';
import { SesMailer } from './adapters/ses-mailer';
import { SqsEventSource } from './adapters/sqs-event-source';
import { loadNotifierConfig } from './config';
import { ChangeEventConsumer } from './domain/consumer';
import { ChangeEventDelivery } from './domain/deliver';
import { createHandlers } from './handlers';

export const SERVICE_NAME = 'filesync.notifier.v1.NotifierService';

/** Starts the notifier from an environment; main.ts and the local stack both call this. */
export async function start(env: NodeJS.ProcessEnv): Promise<RunningService> {
  const config = loadNotifierConfig(env);
  const logger = createLogger('notifier', config.logLevel);
  const metrics = createMetrics('notifier');

  const dynamoClient = new DynamoDBClient(awsClientConfig(config.region));
  const dynamo = DynamoDBDocumentClient.from(dynamoClient, {
    marshallOptions: { removeUndefinedValues: true },
  });
  // A receive may legitimately wait the whole long poll: its deadline must outlast it.
  const sqs = new SQSClient(awsClientConfig(config.region, (config.pollWaitSeconds + 10) * 1000));
  const ses = new SESv2Client(awsClientConfig(config.region));
  const keys = connectTokenVerifier(config.authAddress, peerCredentials(config));

  const ledger = new DynamoDeliveryLedger(dynamo, config.table);
  const delivery = new ChangeEventDelivery({
    ledger,
    mailer: new SesMailer(ses, config.mailFrom),
    clock: { now: () => Date.now() },
    logger,
  });
  const consumer = new ChangeEventConsumer(
    new SqsEventSource(sqs, config.queueUrl, config.pollWaitSeconds, logger),
    delivery,
    logger,
  );

  const running = await startGrpcService({
    serviceName: 'notifier',
    settings: config,
    logger,
    metrics,
    services: [
      {
        name: SERVICE_NAME,
        definition: notifier.NotifierServiceService,
        implementation: implement(notifier.NotifierServiceService, createHandlers({ ledger }), {
          logger,
          metrics,
          verifier: keys.verifier,
        }),
      },
    ],
    onShutdown: async () => {
      await consumer.stop();
      keys.close();
      sqs.destroy();
      ses.destroy();
      dynamoClient.destroy();
    },
  });
  consumer.start();
  return running;
}
