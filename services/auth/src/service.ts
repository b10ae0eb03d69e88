import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { auth } from '@filesync/contracts';
import {
  awsClientConfig,
  createLogger,
  createMetrics,
  implement,
  startGrpcService,
  type Logger,
  type RunningService,
} from '@filesync/server-kit';
import { DynamoAccountStore } from './adapters/dynamo-accounts';
import { DynamoLoginAttemptStore } from './adapters/dynamo-login-attempts';
import { DynamoRevocationStore } from './adapters/dynamo-revocations';
import { SesVerificationMailer } from './adapters/ses-verification-mailer';
import { DynamoTokenStore } from './adapters/dynamo-tokens';
import { StsCredentialIssuer } from './adapters/sts-credential-issuer';
import { loadAuthConfig, type AuthConfig } from './config';
import { AccessTokenSigner, localTokenVerifier, signingKeyFrom } from './domain/access-tokens';
import { Accounts } from './domain/accounts';
import { EmailVerification } from './domain/email-verification';
import { gatedHasher, PasswordGate, signUpLimits, UnknownEmailDelay } from './domain/password-gate';
import { argon2Hasher, type PasswordHasher } from './domain/passwords';
import { systemClock } from './domain/ports';
import { CachedRevocationStore } from './domain/revocation-list';
import { Sessions } from './domain/sessions';
import { StorageCredentials } from './domain/storage-credentials';
import { authHandlers } from './handlers';

export const SERVICE_NAME = 'filesync.auth.v1.AuthService';

export interface RunningAuthService extends RunningService {
  readonly logger: Logger;
}

/** Composition root: config -> adapters -> domain -> handlers -> gRPC server. */
export async function start(env: NodeJS.ProcessEnv): Promise<RunningAuthService> {
  const config = loadAuthConfig(env);
  const logger = createLogger('auth', config.logLevel);
  const metrics = createMetrics('auth');
  const clock = systemClock;

  const dynamoClient = new DynamoDBClient(awsClientConfig(config.region));
  const dynamo = DynamoDBDocumentClient.from(dynamoClient, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sts = new STSClient(awsClientConfig(config.region));
  const ses = new SESv2Client(awsClientConfig(config.region));
  const accountStore = new DynamoAccountStore(dynamo, config.table);
  const tokenStore = new DynamoTokenStore(dynamo, config.table);
  const revocations = new CachedRevocationStore(new DynamoRevocationStore(dynamo, config.table), clock);
  const revokedDevices = () => revocations.revokedDevices();

  const signingKey = await signingKeyFrom(config.signingKey);
  const sessions = new Sessions({
    accounts: accountStore,
    tokens: tokenStore,
    signer: new AccessTokenSigner(signingKey, config.accessTokenTtlSeconds, clock),
    clock,
    refreshTtlSeconds: config.refreshTokenTtlSeconds,
    revocations,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  });
  const accounts = new Accounts({
    accounts: accountStore,
    loginAttempts: new DynamoLoginAttemptStore(dynamo, config.table),
    passwords: await gatedPasswords(config.passwordChecks, config.unknownEmailLogins),
    sessions,
    revocations,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    clock,
  });
  const verification = new EmailVerification({
    accounts: accountStore,
    store: accountStore,
    mailer: new SesVerificationMailer(ses, config.mailFrom),
    sessions,
    clock,
  });
  const storage = new StorageCredentials(new StsCredentialIssuer(sts, config.storageRoleArn), {
    bucket: config.bucket,
    region: config.region,
    endpoint: config.s3PublicEndpoint,
    forcePathStyle: config.s3ForcePathStyle,
  });

  const implementation = implement(
    auth.AuthServiceService,
    authHandlers({
      accounts,
      sessions,
      storage,
      publicKeys: [signingKey.published],
      verification,
      revokedDevices,
    }),
    { logger, metrics, verifier: localTokenVerifier(signingKey, clock, revokedDevices) },
  );
  const running = await startGrpcService({
    serviceName: SERVICE_NAME,
    settings: config,
    logger,
    metrics,
    services: [{ name: SERVICE_NAME, definition: auth.AuthServiceService, implementation }],
    onShutdown: async () => {
      // The document client's destroy() leaves the base client's sockets open: close that one.
      dynamoClient.destroy();
      sts.destroy();
      ses.destroy();
    },
  });
  return Object.assign(running, { logger });
}

/**
 * Argon2 behind the password-check caps, with the unknown-email delay calibrated by one real
 * verify, so logins of unknown emails take a real check's time from the first one on.
 */
async function gatedPasswords(
  limits: AuthConfig['passwordChecks'],
  unknownEmailLimits: AuthConfig['unknownEmailLogins'],
): Promise<PasswordHasher> {
  const hasher = argon2Hasher();
  const unknownEmails = new UnknownEmailDelay(unknownEmailLimits);
  const calibration = await hasher.hash('calibration password');
  const started = performance.now();
  await hasher.verify(calibration, 'another password');
  unknownEmails.record(performance.now() - started);
  return gatedHasher(hasher, {
    gate: new PasswordGate(limits),
    signUps: new PasswordGate(signUpLimits(limits)),
    unknownEmails,
  });
}
