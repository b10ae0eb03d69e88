import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ACCESS_TOKEN, unauthenticated, type Principal } from '@filesync/server-kit';
import type { AccessTokenSigner } from './access-tokens';
import type { AccountStore, Clock, Profile, RefreshTokenRecord, RevocationStore, TokenStore } from './ports';

/** A signed-in device's credentials, as handed to the client. */
export interface Session {
  readonly accessToken: string;
  readonly accessTokenExpiresAtMs: number;
  readonly refreshToken: string;
  readonly refreshTokenExpiresAtMs: number;
  readonly userId: string;
  readonly deviceId: string;
  readonly rootNamespaceId: string;
  readonly email: string;
  readonly emailVerified: boolean;
}

/** Only the hash is stored, so a leaked table does not hand out sessions. */
export function refreshTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Namespaces a profile grants; shared folders will add to the root here. */
export function namespacesOf(profile: Profile): string[] {
  return [profile.rootNamespaceId];
}

const SIGN_IN_AGAIN = 'refresh token is not valid: sign in again';

/**
 * Sessions: a short-lived access token plus a single-use refresh token. Each refresh marks the
 * presented token used and issues the next one in the same family; presenting a used token means
 * two parties hold the chain (theft or a replay), so the whole family is revoked.
 */
export class Sessions {
  constructor(
    private readonly deps: {
      readonly accounts: AccountStore;
      readonly tokens: TokenStore;
      readonly signer: AccessTokenSigner;
      readonly clock: Clock;
      readonly refreshTtlSeconds: number;
      /** Where a device whose chain was stolen is listed, so its access tokens die too. */
      readonly revocations: RevocationStore;
      readonly accessTokenTtlSeconds: number;
    },
  ) {}

  /** Starts a new token family for a device that just proved the password. */
  async start(profile: Profile, deviceId: string): Promise<Session> {
    const { record, token } = this.newRefreshToken(profile.userId, deviceId, randomUUID());
    await this.deps.tokens.startFamily(record);
    return this.sessionFor(profile, record, token);
  }

  async refresh(refreshToken: string): Promise<Session> {
    const current = await this.liveToken(refreshToken);
    const { tokens, accounts, clock } = this.deps;
    if (current.usedAtMs !== undefined) {
      await this.revokeStolen(current);
      throw unauthenticated(
        'refresh token was already used: all sessions of this sign-in are revoked, sign in again',
      );
    }
    const profile = await accounts.findProfile(current.userId);
    if (!profile) throw unauthenticated(SIGN_IN_AGAIN);
    // A device removed from the account (RemoveDevice) keeps no way back in: its chain ends here.
    if (!(await accounts.hasDevice(current.userId, current.deviceId))) {
      throw unauthenticated('this device was removed from the account: sign in again');
    }

    const next = this.newRefreshToken(current.userId, current.deviceId, current.familyId);
    const outcome = await tokens.rotate(current, next.record, clock.now());
    if (outcome === 'already-used') {
      // Lost a race against another refresh with the same token: the same theft signal.
      await this.revokeStolen(current);
      throw unauthenticated(
        'refresh token was already used: all sessions of this sign-in are revoked, sign in again',
      );
    }
    if (outcome === 'family-revoked') throw unauthenticated(SIGN_IN_AGAIN);
    // For `filesync devices`: a running client renews once per access-token lifetime. The
    // session is rotated already; losing this one write only makes "last seen" older.
    await accounts.touchDevice(current.userId, current.deviceId, clock.now()).catch(() => undefined);
    return this.sessionFor(profile, next.record, next.token);
  }

  /**
   * Ends the session the refresh token belongs to. Unknown or expired tokens are already ended,
   * which keeps the call idempotent. Another account's token is treated exactly like an unknown
   * one (nothing happens, same answer): a different answer would confirm that it is live.
   */
  async end(refreshToken: string, caller: Principal): Promise<{ deviceId: string } | undefined> {
    const record = await this.deps.tokens.findRefreshToken(refreshTokenHash(refreshToken));
    if (!record || record.userId !== caller.userId) return undefined;
    await this.deps.tokens.revokeFamily(record.familyId);
    return { deviceId: record.deviceId };
  }

  /**
   * Two parties hold the chain: end it, and list the device as revoked so that the access tokens
   * already handed to either party stop working too, not only their refreshes.
   */
  private async revokeStolen(record: RefreshTokenRecord): Promise<void> {
    const { tokens, revocations, clock, accessTokenTtlSeconds } = this.deps;
    await tokens.revokeFamily(record.familyId);
    const untilMs = clock.now() + (accessTokenTtlSeconds + ACCESS_TOKEN.clockToleranceSeconds) * 1000;
    await revocations.revokeDevice(record.deviceId, untilMs);
  }

  private async liveToken(refreshToken: string): Promise<RefreshTokenRecord> {
    if (!REFRESH_TOKEN_SHAPE.test(refreshToken)) throw unauthenticated(SIGN_IN_AGAIN);
    const record = await this.deps.tokens.findRefreshToken(refreshTokenHash(refreshToken));
    // Expired items linger until DynamoDB's TTL sweep (up to days): check expiry here too.
    if (!record || record.expiresAt * 1000 <= this.deps.clock.now()) throw unauthenticated(SIGN_IN_AGAIN);
    if (await this.deps.tokens.isFamilyRevoked(record.familyId)) throw unauthenticated(SIGN_IN_AGAIN);
    return record;
  }

  private newRefreshToken(userId: string, deviceId: string, familyId: string) {
    const token = randomBytes(32).toString('base64url');
    const record: RefreshTokenRecord = {
      tokenHash: refreshTokenHash(token),
      userId,
      deviceId,
      familyId,
      expiresAt: Math.floor(this.deps.clock.now() / 1000) + this.deps.refreshTtlSeconds,
    };
    return { token, record };
  }

  /** A fresh access token for a device of the profile, e.g. once its email is confirmed. */
  accessTokenFor(profile: Profile, deviceId: string) {
    return this.deps.signer.sign({
      userId: profile.userId,
      deviceId,
      email: profile.email,
      emailVerified: profile.emailVerified,
      namespaceIds: namespacesOf(profile),
    });
  }

  private async sessionFor(
    profile: Profile,
    record: RefreshTokenRecord,
    refreshToken: string,
  ): Promise<Session> {
    const access = await this.accessTokenFor(profile, record.deviceId);
    return {
      accessToken: access.token,
      accessTokenExpiresAtMs: access.expiresAtMs,
      refreshToken,
      refreshTokenExpiresAtMs: record.expiresAt * 1000,
      userId: profile.userId,
      deviceId: record.deviceId,
      rootNamespaceId: profile.rootNamespaceId,
      email: profile.email,
      emailVerified: profile.emailVerified,
    };
  }
}
