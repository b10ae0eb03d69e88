import { z } from 'zod';
import { BLOCKS_BUCKET, GARBAGE_COLLECTION, TABLES } from '@filesync/resources';
import { booleanVar, loadConfig, serviceEnv } from '@filesync/server-kit/jobs';

/**
 * GARBAGE_COLLECTION.graceEnvVar: whole seconds as digits (a coerced number would take "" for 0,
 * the unsafe grace). The metadata service reads it too: it registers only packs written less
 * than half a grace ago (see Blocks).
 */
export const graceSecondsSchema = z
  .string()
  .regex(
    /^\d{1,9}$/,
    'expected whole seconds, e.g. 86400 (0 only for tests: no protection for uploads in flight)',
  )
  .default(String(GARBAGE_COLLECTION.defaultGraceSeconds))
  .transform(Number);

const schema = z
  .object({
    AWS_REGION: serviceEnv.AWS_REGION,
    FILESYNC_LOG_LEVEL: serviceEnv.FILESYNC_LOG_LEVEL,
    [TABLES.metadata.envVar]: z.string().min(1).default(TABLES.metadata.defaultName),
    [BLOCKS_BUCKET.envVar]: z.string().min(1).default(BLOCKS_BUCKET.defaultName),
    FILESYNC_S3_FORCE_PATH_STYLE: booleanVar(),
    [GARBAGE_COLLECTION.graceEnvVar]: graceSecondsSchema,
  })
  .transform((env) => ({
    region: env.AWS_REGION,
    logLevel: env.FILESYNC_LOG_LEVEL,
    metadataTable: env[TABLES.metadata.envVar],
    blocksBucket: env[BLOCKS_BUCKET.envVar],
    s3ForcePathStyle: env.FILESYNC_S3_FORCE_PATH_STYLE,
    graceSeconds: env[GARBAGE_COLLECTION.graceEnvVar],
  }));

export type GcConfig = z.infer<typeof schema>;

/**
 * The collector's environment: the metadata service's table, bucket and AWS settings (the same
 * variables, so one task definition environment serves both) plus the grace period in seconds.
 * A problem throws ConfigError naming the variable.
 */
export const loadGcConfig = (env: NodeJS.ProcessEnv): GcConfig => loadConfig(schema, env);
