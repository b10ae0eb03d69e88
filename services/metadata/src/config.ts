import { z } from 'zod';
import {
  CHANGE_EVENTS_QUEUE,
  BLOCKS_BUCKET,
  GARBAGE_COLLECTION,
  NAMESPACE_ADVANCED_TOPIC,
  RETENTION,
  SERVICE_PORTS,
  TABLES,
} from '@filesync/resources';
import {
  booleanVar,
  grpcTarget,
  loadConfig,
  serviceEnvFor,
  serviceSettings,
  url,
} from '@filesync/server-kit';
import { graceSecondsSchema } from './gc/config';

const schema = z
  .object({
    ...serviceEnvFor(SERVICE_PORTS.metadata),
    [TABLES.metadata.envVar]: z.string().min(1).default(TABLES.metadata.defaultName),
    [TABLES.outbox.envVar]: z.string().min(1).default(TABLES.outbox.defaultName),
    [BLOCKS_BUCKET.envVar]: z.string().min(1).default(BLOCKS_BUCKET.defaultName),
    FILESYNC_S3_FORCE_PATH_STYLE: booleanVar(),
    [CHANGE_EVENTS_QUEUE.urlEnvVar]: url(),
    [NAMESPACE_ADVANCED_TOPIC.arnEnvVar]: z
      .string()
      .regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}$/, 'expected an SNS topic ARN'),
    FILESYNC_AUTH_ADDRESS: grpcTarget().default(`127.0.0.1:${SERVICE_PORTS.auth.grpc}`),
    // Whole days as digits: a coerced number would take "" for 0 and expire every old version.
    [RETENTION.envVar]: z
      .string()
      .regex(
        /^\d{1,5}$/,
        'expected whole days from 0 to 99999, e.g. 30 (0: old versions and deleted files expire at once)',
      )
      .default(String(RETENTION.defaultDays))
      .transform(Number),
    [GARBAGE_COLLECTION.graceEnvVar]: graceSecondsSchema,
  })
  .transform((env) => ({
    ...serviceSettings(env),
    metadataTable: env[TABLES.metadata.envVar],
    outboxTable: env[TABLES.outbox.envVar],
    blocksBucket: env[BLOCKS_BUCKET.envVar],
    s3ForcePathStyle: env.FILESYNC_S3_FORCE_PATH_STYLE,
    changeEventsQueueUrl: env[CHANGE_EVENTS_QUEUE.urlEnvVar],
    /** Push between tasks: the topic every commit's wake-up goes to. */
    advanceTopicArn: env[NAMESPACE_ADVANCED_TOPIC.arnEnvVar],
    authAddress: env.FILESYNC_AUTH_ADDRESS,
    /** How long old versions and deleted files' last content stay retrievable. */
    retentionDays: env[RETENTION.envVar],
    /** The collector's grace period: RegisterPacks refuses packs written more than half of it ago. */
    gcGraceSeconds: env[GARBAGE_COLLECTION.graceEnvVar],
  }));

export type MetadataConfig = z.infer<typeof schema>;

/** Reads the metadata service's environment; a problem stops the start with one line naming the variable. */
export const loadMetadataConfig = (env: NodeJS.ProcessEnv): MetadataConfig => loadConfig(schema, env);
