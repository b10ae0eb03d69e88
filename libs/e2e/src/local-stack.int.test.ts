import { DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CHANGE_EVENTS_QUEUE, TABLES } from '@filesync/resources';
import {
  bootstrap,
  checkServing,
  LOCAL_CREDENTIALS,
  PortInUseError,
  startEmulators,
} from '@filesync/local-stack';
import { readTestStack, TEST_QUEUE_VISIBILITY_SECONDS } from './support/harness';

const stack = readTestStack();

// The harness itself: what `npm start` and this tier rely on.
describe('local stack', () => {
  test('every service reports SERVING over grpc.health.v1', async () => {
    for (const address of Object.values(stack.services)) expect(await checkServing(address)).toBe(true);
  });

  test('bootstrap is idempotent and creates TTL and the redrive policy as defined', async () => {
    const again = await bootstrap(stack.emulators, {
      queueVisibilityTimeoutSeconds: TEST_QUEUE_VISIBILITY_SECONDS,
    });
    expect(again).toEqual(stack.resources);

    const client = { region: stack.resources.region, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...client, endpoint: stack.emulators.dynamodb });
    const sqs = new SQSClient({ ...client, endpoint: stack.emulators.moto });
    try {
      for (const table of Object.values(TABLES)) {
        const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table.defaultName }));
        const expected = 'ttlAttribute' in table ? table.ttlAttribute : undefined;
        expect({ table: table.defaultName, ttl: ttl.TimeToLiveDescription?.AttributeName }).toEqual({
          table: table.defaultName,
          ttl: expected,
        });
      }
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.resources.queueUrl,
          AttributeNames: ['RedrivePolicy'],
        }),
      );
      const redrive = JSON.parse(attributes.Attributes?.RedrivePolicy ?? '{}') as Record<string, unknown>;
      expect(Number(redrive.maxReceiveCount)).toBe(CHANGE_EVENTS_QUEUE.maxReceiveCount);
      expect(String(redrive.deadLetterTargetArn)).toContain(CHANGE_EVENTS_QUEUE.deadLetter.defaultName);
    } finally {
      dynamodb.destroy();
      sqs.destroy();
    }
  });

  test('a port already in use is named instead of failing obscurely', async () => {
    const [moto, dynamodb, ses] = [stack.emulators.moto, stack.emulators.dynamodb, stack.emulators.ses].map(
      (url) => Number(new URL(url).port),
    ) as [number, number, number];
    const error = await startEmulators({
      ports: { moto, dynamodb, ses },
      sink: () => undefined,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as PortInUseError).message).toContain(`port ${moto}`);
  });
});
