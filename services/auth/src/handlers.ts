import type { auth } from '@filesync/contracts';
import { invalidArgument, type Handlers } from '@filesync/server-kit';
import type { PublishedKey } from './domain/access-tokens';
import type { Accounts } from './domain/accounts';
import { verificationCodeOf, type EmailVerification } from './domain/email-verification';
import {
  checkDeviceId,
  checkLoginPassword,
  checkNewPassword,
  deviceNameOf,
  normaliseEmail,
} from './domain/input-rules';
import type { Session, Sessions } from './domain/sessions';
import type { StorageCredentials } from './domain/storage-credentials';

export interface AuthDomain {
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly storage: StorageCredentials;
  readonly publicKeys: readonly PublishedKey[];
  readonly verification: EmailVerification;
  /** Logged-out devices whose access tokens have not expired yet. */
  revokedDevices(): Promise<readonly string[]>;
}

/** Edge of the service: validate each request, call the domain, shape the proto response. */
export function authHandlers(domain: AuthDomain): Handlers<typeof auth.AuthServiceService> {
  return {
    async signUp(request, context) {
      const credentials = {
        email: normaliseEmail(request.email),
        password: checkNewPassword(request.password),
        deviceName: deviceNameOf(request.deviceName),
      };
      const session = await domain.accounts.signUp(credentials);
      try {
        await domain.verification.sendCode(session.userId, session.email);
      } catch (error) {
        // The account exists and syncs without it; the user can ask for the mail again.
        context.logger.warn({ err: error, userId: session.userId }, 'verification mail failed at sign-up');
      }
      return { session: toProtoSession(session) };
    },

    async login(request) {
      const credentials = {
        email: normaliseEmail(request.email),
        password: checkLoginPassword(request.password),
        deviceName: deviceNameOf(request.deviceName),
      };
      return { session: toProtoSession(await domain.accounts.login(credentials)) };
    },

    async refreshSession(request) {
      return {
        session: toProtoSession(await domain.sessions.refresh(requireRefreshToken(request.refreshToken))),
      };
    },

    async logout(request, context) {
      const refreshToken = requireRefreshToken(request.refreshToken);
      await domain.accounts.logout(refreshToken, await context.principal());
      return {};
    },

    async listDevices(_request, context) {
      const devices = await domain.accounts.devices(await context.principal());
      return {
        devices: devices.map(({ deviceId, name, createdAtMs, lastSeenAtMs }) => ({
          deviceId,
          name,
          createdAtMs,
          lastSeenAtMs: lastSeenAtMs ?? 0,
        })),
      };
    },

    async removeDevice(request, context) {
      const deviceId = checkDeviceId(request.deviceId);
      await domain.accounts.removeDevice(await context.principal(), deviceId);
      return {};
    },

    async getPublicKeys() {
      return {
        keys: domain.publicKeys.map(({ keyId, algorithm, jwk }) => ({
          keyId,
          algorithm,
          jwkJson: JSON.stringify(jwk),
        })),
      };
    },

    async listRevokedDevices() {
      return { deviceIds: [...(await domain.revokedDevices())] };
    },

    async verifyEmail(request, context) {
      const code = verificationCodeOf(request.code);
      const access = await domain.verification.verify(await context.principal(), code);
      return { accessToken: access.token, accessTokenExpiresAtMs: access.expiresAtMs };
    },

    async resendVerificationEmail(_request, context) {
      return domain.verification.resend(await context.principal());
    },

    async getStorageCredentials(_request, context) {
      const caller = await context.principal();
      // Storage credentials outlive the revocation window of other services: check the device
      // itself here, so a logged-out device gets none, not even within that window.
      await domain.accounts.requireLiveDevice(caller);
      const grant = await domain.storage.grant(caller);
      return {
        accessKeyId: grant.accessKeyId,
        secretAccessKey: grant.secretAccessKey,
        sessionToken: grant.sessionToken,
        expiresAtMs: grant.expiresAtMs,
        bucket: grant.bucket,
        region: grant.region,
        endpoint: grant.endpoint,
        prefixes: grant.prefixes.map(({ namespaceId, keyPrefix }) => ({ namespaceId, keyPrefix })),
        forcePathStyle: grant.forcePathStyle,
      };
    },
  };
}

function requireRefreshToken(token: string): string {
  if (token === '') throw invalidArgument('refresh_token is required: send the refresh token of the session');
  if (token.length > 256) throw invalidArgument('refresh_token is too long to be a refresh token');
  return token;
}

function toProtoSession(session: Session): auth.Session {
  return {
    accessToken: session.accessToken,
    accessTokenExpiresAtMs: session.accessTokenExpiresAtMs,
    refreshToken: session.refreshToken,
    refreshTokenExpiresAtMs: session.refreshTokenExpiresAtMs,
    userId: session.userId,
    deviceId: session.deviceId,
    rootNamespaceId: session.rootNamespaceId,
    email: session.email,
    emailVerified: session.emailVerified,
  };
}
