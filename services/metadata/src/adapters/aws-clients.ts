import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '@filesync/server-kit';

/** SDK clients; endpoints come from AWS_ENDPOINT_URL(_<SERVICE>) as the SDK reads them itself. */
export function createAwsClients(options: { region: string; s3ForcePathStyle: boolean }) {
  const dynamo = new DynamoDBClient(awsClientConfig(options.region));
  const documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  const s3 = new S3Client({ ...awsClientConfig(options.region), forcePathStyle: options.s3ForcePathStyle });
  const sqs = new SQSClient(awsClientConfig(options.region));
  return {
    documents,
    s3,
    sqs,
    destroy() {
      documents.destroy();
      dynamo.destroy();
      s3.destroy();
      sqs.destroy();
    },
  };
}
