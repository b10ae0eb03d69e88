import type { auth } from '@filesync/contracts';
import { invalidArgument, type Handlers } from '@filesync/server-kit';
import type { PublishedKey } from './domain/access-tokens';
import type { Accounts } from './domain/accounts';
import { checkLoginPassword, checkNewPassword, deviceNameOf, normaliseEmail } from './domain/input-rules';
import type { Session, Sessions } from './domain/sessions';
import type { StorageCredentials } from './domain/storage-credentials';

export interface AuthDomain {
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly storage: StorageCredentials;
  readonly publicKeys: readonly PublishedKey[];
}

/** Edge of the service: validate each request, call the domain, shape the proto response. */
export function authHandlers(domain: AuthDomain): Handlers<typeof auth.AuthServiceService> {
  return {
    async signUp(request) {
      const credentials = {
        email: normaliseEmail(request.email),
        password: checkNewPassword(request.password),
        deviceName: deviceNameOf(request.deviceName),
      };
      return { session: toProtoSession(await domain.accounts.signUp(credentials)) };
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
        devices: devices.map(({ deviceId, name, createdAtMs }) => ({ deviceId, name, createdAtMs })),
      };
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

    async getStorageCredentials(_request, context) {
      const grant = await domain.storage.grant(await context.principal());
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
  };
}
