import { createPrivateKey, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import {
  ACCESS_TOKEN,
  booleanVar,
  loadConfig,
  serviceEnvFor,
  serviceSettings,
  type ServiceSettings,
  url,
} from '@filesync/server-kit';
import { BLOCKS_BUCKET, MAIL_SENDER, SERVICE_PORTS, STORAGE_ROLE, TABLES } from '@filesync/resources';

const SIGNING_KEY_HELP =
  'expected an Ed25519 private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"); ' +
  'create one with `openssl genpkey -algorithm ed25519`';

/**
 * The signing key arrives through the environment, where newlines are often written as `\n`:
 * accept both forms, and only an Ed25519 key, so a wrong key type fails at start, not at first login.
 */
const signingKey = z
  .string({ error: SIGNING_KEY_HELP })
  .min(1, SIGNING_KEY_HELP)
  .transform((pem, ctx): KeyObject => {
    try {
      const key = createPrivateKey({ key: pem.replace(/\\n/g, '\n'), format: 'pem' });
      if (key.asymmetricKeyType === 'ed25519') return key;
      ctx.addIssue({ code: 'custom', message: `${SIGNING_KEY_HELP}, got a ${key.asymmetricKeyType} key` });
    } catch {
      ctx.addIssue({ code: 'custom', message: `${SIGNING_KEY_HELP}; the value is not a readable PEM key` });
    }
    return z.NEVER;
  });

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/;
const ROLE_ARN_HELP =
  'expected the ARN of the storage role auth assumes, e.g. arn:aws:iam::123456789012:role/filesync-storage-access';

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const authConfigSchema = z.object({
  ...serviceEnvFor(SERVICE_PORTS.auth),
  [TABLES.auth.envVar]: z.string().min(1).default(TABLES.auth.defaultName),
  [BLOCKS_BUCKET.envVar]: z.string().min(3).default(BLOCKS_BUCKET.defaultName),
  FILESYNC_SIGNING_KEY: signingKey,
  // Verifiers refuse tokens older than ACCESS_TOKEN.maxLifetimeSeconds: the TTL cannot exceed it.
  FILESYNC_ACCESS_TOKEN_TTL_SECONDS: seconds(30, ACCESS_TOKEN.maxLifetimeSeconds, 900),
  FILESYNC_REFRESH_TOKEN_TTL_SECONDS: seconds(60, 365 * 24 * 3600, 30 * 24 * 3600),
  [STORAGE_ROLE.envVar]: z.string({ error: ROLE_ARN_HELP }).regex(ROLE_ARN, ROLE_ARN_HELP),
  /** Handed to clients with their credentials; empty on AWS, where the SDK's regional default applies. */
  FILESYNC_S3_PUBLIC_ENDPOINT: z.union([z.literal(''), url()]).default(''),
  FILESYNC_S3_FORCE_PATH_STYLE: booleanVar(),
  /** Sender of the verification mails; the same identity the notifier mails from. */
  [MAIL_SENDER.envVar]: z
    .string()
    .regex(/^[^\s@]+@[^\s@]+$/, 'expected an email address, e.g. notifications@example.com')
    .default(MAIL_SENDER.defaultAddress),
  /** Argon2 runs at once per process; the default leaves no core idle and none oversubscribed. */
  FILESYNC_PASSWORD_CHECK_CONCURRENCY: z.coerce
    .number({ error: 'expected a whole number of concurrent password checks, 1 to 64' })
    .int()
    .min(1)
    .max(64)
    .default(Math.min(4, availableParallelism())),
  /** Password checks allowed to wait for a slot; more are refused with RESOURCE_EXHAUSTED. */
  FILESYNC_PASSWORD_CHECK_QUEUE: z.coerce
    .number({ error: 'expected a whole number of waiting password checks, 0 to 1000' })
    .int()
    .min(0)
    .max(1000)
    .default(16),
  /**
   * Logins of unknown emails waiting out their decoy delay at once (they never hash); far more
   * than real checks, since each costs only a timer and a pending request.
   */
  FILESYNC_UNKNOWN_EMAIL_LOGINS: z.coerce
    .number({ error: 'expected a whole number of pending unknown-email logins, 1 to 100000' })
    .int()
    .min(1)
    .max(100_000)
    .default(1000),
});

export interface AuthConfig extends ServiceSettings {
  readonly table: string;
  readonly bucket: string;
  readonly signingKey: KeyObject;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly storageRoleArn: string;
  readonly s3PublicEndpoint: string;
  readonly s3ForcePathStyle: boolean;
  readonly mailFrom: string;
  readonly passwordChecks: { readonly maxConcurrent: number; readonly maxQueued: number };
  readonly unknownEmailLogins: { readonly maxPending: number };
}

/** Reads and validates the environment; throws ConfigError naming every wrong variable. */
export function loadAuthConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const parsed = loadConfig(authConfigSchema, env);
  return {
    ...serviceSettings(parsed),
    table: parsed[TABLES.auth.envVar],
    bucket: parsed[BLOCKS_BUCKET.envVar],
    signingKey: parsed.FILESYNC_SIGNING_KEY,
    accessTokenTtlSeconds: parsed.FILESYNC_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: parsed.FILESYNC_REFRESH_TOKEN_TTL_SECONDS,
    storageRoleArn: parsed[STORAGE_ROLE.envVar],
    s3PublicEndpoint: parsed.FILESYNC_S3_PUBLIC_ENDPOINT,
    s3ForcePathStyle: parsed.FILESYNC_S3_FORCE_PATH_STYLE,
    mailFrom: parsed[MAIL_SENDER.envVar],
    passwordChecks: {
      maxConcurrent: parsed.FILESYNC_PASSWORD_CHECK_CONCURRENCY,
      maxQueued: parsed.FILESYNC_PASSWORD_CHECK_QUEUE,
    },
    unknownEmailLogins: { maxPending: parsed.FILESYNC_UNKNOWN_EMAIL_LOGINS },
  };
}
