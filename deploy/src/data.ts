import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  BLOCKS_BUCKET,
  CHANGE_EVENTS_QUEUE,
  MAIL_SENDER,
  NAMESPACE_ADVANCED_TOPIC,
  TABLES,
  type TableKey,
} from '@filesync/resources';

export interface DataStoresProps {
  /** SES identity: a domain, or an email address. */
  readonly mailIdentity: string;
}

/**
 * Tables, the blocks bucket, the change-event queues and the mail identity, all built from the
 * definitions in @filesync/resources that the local bootstrap also uses.
 *
 * Data outlives the stack (RETAIN): deleting the stack must never delete users' files.
 */
export class DataStores extends Construct {
  readonly tables: Readonly<Record<TableKey, dynamodb.Table>>;
  readonly blocksBucket: s3.Bucket;
  /** Receives the S3 server access logs of the blocks bucket. */
  readonly accessLogsBucket: s3.Bucket;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /**
   * Push between metadata tasks: each task subscribes a queue of its own at start (the queues are
   * not part of the stack: tasks come and go with auto scaling).
   */
  readonly advanceTopic: sns.Topic;
  readonly mailIdentity: ses.EmailIdentity;

  constructor(scope: Construct, id: string, props: DataStoresProps) {
    super(scope, id);

    const tables = {} as Record<TableKey, dynamodb.Table>;
    for (const key of Object.keys(TABLES) as TableKey[]) {
      const definition: (typeof TABLES)[TableKey] = TABLES[key];
      tables[key] = new dynamodb.Table(this, definition.id, {
        partitionKey: { name: definition.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: definition.sortKey, type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        timeToLiveAttribute: 'ttlAttribute' in definition ? definition.ttlAttribute : undefined,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // CloudFormation adds at most one new index to an existing table per deployment.
      for (const index of 'indexes' in definition ? definition.indexes : []) {
        tables[key].addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: [...index.projectedAttributes],
        });
      }
    }
    this.tables = tables;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.blocksBucket = new s3.Bucket(this, BLOCKS_BUCKET.id, {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'blocks/',
      lifecycleRules: [
        {
          id: 'abort-incomplete-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(BLOCKS_BUCKET.abortIncompleteUploadsAfterDays),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.deadLetterQueue = new sqs.Queue(this, CHANGE_EVENTS_QUEUE.deadLetter.id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(CHANGE_EVENTS_QUEUE.deadLetter.retentionSeconds),
    });
    this.queue = new sqs.Queue(this, CHANGE_EVENTS_QUEUE.id, {
      // SQS-managed keys need no KMS permissions in the task roles, and cost nothing.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(CHANGE_EVENTS_QUEUE.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(CHANGE_EVENTS_QUEUE.retentionSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: CHANGE_EVENTS_QUEUE.maxReceiveCount },
    });

    this.advanceTopic = new sns.Topic(this, NAMESPACE_ADVANCED_TOPIC.id, { enforceSSL: true });

    this.mailIdentity = new ses.EmailIdentity(this, MAIL_SENDER.id, {
      identity: props.mailIdentity.includes('@')
        ? ses.Identity.email(props.mailIdentity)
        : ses.Identity.domain(props.mailIdentity),
    });
  }
}
