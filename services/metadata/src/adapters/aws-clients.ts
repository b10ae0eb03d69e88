import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NAMESPACE_ADVANCED_TOPIC } from '@filesync/resources';
import { awsClientConfig } from '@filesync/server-kit';

/** SDK clients; endpoints come from AWS_ENDPOINT_URL(_<SERVICE>) as the SDK reads them itself. */
export function createAwsClients(options: { region: string; s3ForcePathStyle: boolean }) {
  const dynamo = new DynamoDBClient(awsClientConfig(options.region));
  const documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  const s3 = new S3Client({ ...awsClientConfig(options.region), forcePathStyle: options.s3ForcePathStyle });
  const sqs = new SQSClient(awsClientConfig(options.region));
  const sns = new SNSClient(awsClientConfig(options.region));
  // Its own client: the long poll of the task's wake-up queue outlasts the usual request timeout.
  const advanceQueue = new SQSClient(
    awsClientConfig(options.region, (NAMESPACE_ADVANCED_TOPIC.receiveWaitSeconds + 10) * 1000),
  );
  return {
    documents,
    s3,
    sqs,
    sns,
    advanceQueue,
    destroy() {
      documents.destroy();
      dynamo.destroy();
      s3.destroy();
      sqs.destroy();
      sns.destroy();
      advanceQueue.destroy();
    },
  };
}
