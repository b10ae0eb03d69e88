import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@filesync/server-kit';
import { loadAuthConfig } from './config';

const ed25519Pem = generateKeyPairSync('ed25519')
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const base = {
  AWS_REGION: 'us-east-1',
  FILESYNC_SIGNING_KEY: ed25519Pem,
  FILESYNC_STORAGE_ROLE_ARN: 'arn:aws:iam::123456789012:role/filesync-storage-access',
};

describe('loadAuthConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadAuthConfig(base);
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 50051,
      metricsPort: 9461,
      table: 'filesync-auth',
      bucket: 'filesync-blocks',
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 30 * 24 * 3600,
      s3PublicEndpoint: '',
      s3ForcePathStyle: false,
      region: 'us-east-1',
      mailFrom: 'notifications@filesync.local',
      passwordChecks: { maxConcurrent: expect.any(Number), maxQueued: 16 },
      unknownEmailLogins: { maxPending: 1000 },
    });
    expect(config.signingKey.asymmetricKeyType).toBe('ed25519');
  });

  it('reads overrides, including a PEM with escaped newlines', () => {
    const config = loadAuthConfig({
      ...base,
      FILESYNC_SIGNING_KEY: ed25519Pem.replace(/\n/g, '\\n'),
      FILESYNC_AUTH_TABLE: 'auth-x',
      FILESYNC_BLOCKS_BUCKET: 'bucket-x',
      FILESYNC_S3_PUBLIC_ENDPOINT: 'http://127.0.0.1:4566/',
      FILESYNC_S3_FORCE_PATH_STYLE: 'true',
      FILESYNC_ACCESS_TOKEN_TTL_SECONDS: '60',
    });
    expect(config).toMatchObject({
      table: 'auth-x',
      bucket: 'bucket-x',
      s3PublicEndpoint: 'http://127.0.0.1:4566',
      s3ForcePathStyle: true,
      accessTokenTtlSeconds: 60,
    });
  });

  it.each([
    [
      'FILESYNC_SIGNING_KEY',
      { FILESYNC_SIGNING_KEY: undefined },
      /FILESYNC_SIGNING_KEY is required \(expected an Ed25519/,
    ],
    [
      'FILESYNC_SIGNING_KEY',
      { FILESYNC_SIGNING_KEY: 'hello' },
      /FILESYNC_SIGNING_KEY is invalid: .*Ed25519.*PKCS#8 PEM/,
    ],
    [
      'FILESYNC_SIGNING_KEY',
      {
        FILESYNC_SIGNING_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
          .privateKey.export({ format: 'pem', type: 'pkcs8' })
          .toString(),
      },
      /FILESYNC_SIGNING_KEY is invalid: .*got a ec key/,
    ],
    [
      'FILESYNC_STORAGE_ROLE_ARN',
      { FILESYNC_STORAGE_ROLE_ARN: undefined },
      /FILESYNC_STORAGE_ROLE_ARN is required \(expected the ARN/,
    ],
    [
      'FILESYNC_STORAGE_ROLE_ARN',
      { FILESYNC_STORAGE_ROLE_ARN: 'my-role' },
      /FILESYNC_STORAGE_ROLE_ARN is invalid: expected the ARN of the storage role/,
    ],
    ['AWS_REGION', { AWS_REGION: undefined }, /AWS_REGION is required/],
    [
      'FILESYNC_S3_PUBLIC_ENDPOINT',
      { FILESYNC_S3_PUBLIC_ENDPOINT: 'not a url' },
      /FILESYNC_S3_PUBLIC_ENDPOINT is invalid/,
    ],
    [
      'FILESYNC_ACCESS_TOKEN_TTL_SECONDS',
      { FILESYNC_ACCESS_TOKEN_TTL_SECONDS: 'soon' },
      /FILESYNC_ACCESS_TOKEN_TTL_SECONDS is invalid/,
    ],
    [
      'FILESYNC_MAIL_FROM',
      { FILESYNC_MAIL_FROM: 'nobody' },
      /FILESYNC_MAIL_FROM is invalid: expected an email/,
    ],
    [
      'FILESYNC_PASSWORD_CHECK_CONCURRENCY',
      { FILESYNC_PASSWORD_CHECK_CONCURRENCY: '0' },
      /FILESYNC_PASSWORD_CHECK_CONCURRENCY is invalid/,
    ],
    [
      'FILESYNC_PASSWORD_CHECK_QUEUE',
      { FILESYNC_PASSWORD_CHECK_QUEUE: 'lots' },
      /FILESYNC_PASSWORD_CHECK_QUEUE is invalid: expected a whole number/,
    ],
    [
      'FILESYNC_UNKNOWN_EMAIL_LOGINS',
      { FILESYNC_UNKNOWN_EMAIL_LOGINS: '0' },
      /FILESYNC_UNKNOWN_EMAIL_LOGINS is invalid/,
    ],
  ])('names %s when it is wrong', (_name, override, message) => {
    const attempt = () => loadAuthConfig({ ...base, ...override });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('never echoes the signing key in the error', () => {
    const attempt = () =>
      loadAuthConfig({ ...base, FILESYNC_SIGNING_KEY: 'super-secret-material', AWS_REGION: undefined });
    expect(attempt).toThrow(/AWS_REGION/);
    expect(attempt).not.toThrow(/super-secret-material/);
  });
});
