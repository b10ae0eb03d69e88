import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { auth, channelOptions, insecureCredentials, unary } from '@filesync/contracts';
import { unauthenticated, unavailable } from '../errors';
import { ACCESS_TOKEN, type AccessTokenClaims, type Principal, type TokenVerifier } from './principal';

/** Fetches the signing keys: from the auth service over gRPC, or any other source in tests. */
export type PublicKeySource = () => Promise<auth.PublicKey[]>;

/** Fetches the ids of logged-out devices whose access tokens have not expired yet. */
export type RevokedDeviceSource = () => Promise<readonly string[]>;

export function authServicePublicKeys(client: auth.AuthServiceClient, timeoutMs = 5_000): PublicKeySource {
  return async () => (await unary(client.getPublicKeys.bind(client), {}, { timeoutMs })).keys;
}

export function authServiceRevokedDevices(
  client: auth.AuthServiceClient,
  timeoutMs = 5_000,
): RevokedDeviceSource {
  return async () => (await unary(client.listRevokedDevices.bind(client), {}, { timeoutMs })).deviceIds;
}

export interface JwksVerifierOptions {
  /** An unknown key id refetches the keys (key rotation), at most once per this many ms. */
  readonly keyRefreshIntervalMs?: number;
  /** Where logged-out devices come from; without it no token is refused for its device. */
  readonly revokedDevices?: RevokedDeviceSource;
  /** How long a fetched revocation list is trusted. */
  readonly revocationRefreshMs?: number;
  /** Unix ms; tests pass a fake clock. */
  readonly now?: () => number;
}

/**
 * While auth cannot be reached, a revocation list this old is still used rather than failing
 * every call: an auth outage must not take the other services down with it. The cost is bounded
 * by the access-token lifetime (15 minutes by default): a Logout this verifier did not hear of
 * is honoured at the latest when the device's token expires.
 */
const STALE_REVOCATIONS_LIMIT_MS = 15 * 60_000;

/**
 * Verifies access tokens against the keys auth publishes, by one set of rules that auth itself
 * applies too: a `kid` naming a published key, EdDSA, issuer, audience, `exp` and `iat` present,
 * a lifetime within ACCESS_TOKEN.maxLifetimeSeconds, and a device that has not logged out.
 * Every way a token can be wrong answers UNAUTHENTICATED; only failing to reach auth is UNAVAILABLE.
 *
 * Revocations are a list auth publishes and this verifier caches for revocationRefreshMs, so a
 * call costs no DynamoDB read; the price is that window after a Logout.
 */
export class JwksTokenVerifier implements TokenVerifier {
  private keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  private keyIds = new Set<string>();
  private keysFetchedAt = Number.NEGATIVE_INFINITY;
  private keysInFlight: Promise<void> | undefined;
  private revoked: { ids: ReadonlySet<string>; fetchedAt: number } | undefined;
  private revokedInFlight: Promise<ReadonlySet<string>> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly source: PublicKeySource,
    private readonly options: JwksVerifierOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<Principal> {
    const keyId = keyIdOf(token);
    if (!this.keySet) await this.fetchKeys();
    if (
      !this.keyIds.has(keyId) &&
      this.now() - this.keysFetchedAt > (this.options.keyRefreshIntervalMs ?? 30_000)
    ) {
      await this.fetchKeys();
    }
    if (!this.keyIds.has(keyId)) throw unauthenticated('access token is signed with an unknown key');
    const principal = await this.verifyWith(this.keySet!, token);
    if (this.options.revokedDevices && (await this.revokedDevices()).has(principal.deviceId)) {
      throw unauthenticated('this device has logged out: sign in again');
    }
    return principal;
  }

  private async verifyWith(keySet: ReturnType<typeof createLocalJWKSet>, token: string): Promise<Principal> {
    let claims: Partial<AccessTokenClaims>;
    try {
      ({ payload: claims } = await jwtVerify<AccessTokenClaims>(token, keySet, {
        issuer: ACCESS_TOKEN.issuer,
        audience: ACCESS_TOKEN.audience,
        algorithms: [ACCESS_TOKEN.algorithm],
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: ACCESS_TOKEN.maxLifetimeSeconds,
        clockTolerance: ACCESS_TOKEN.clockToleranceSeconds,
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      throw toUnauthenticated(error);
    }
    return principalFromClaims(claims);
  }

  private fetchKeys(): Promise<void> {
    this.keysInFlight ??= (async () => {
      let keys: auth.PublicKey[];
      try {
        keys = await this.source();
      } catch {
        throw unavailable('cannot fetch the token signing keys from auth: retry shortly');
      } finally {
        this.keysInFlight = undefined;
      }
      const jwks: JSONWebKeySet = { keys: keys.map((key) => JSON.parse(key.jwkJson) as JWK) };
      this.keySet = createLocalJWKSet(jwks);
      this.keyIds = new Set(keys.map((key) => key.keyId));
      this.keysFetchedAt = this.now();
    })();
    return this.keysInFlight;
  }

  private async revokedDevices(): Promise<ReadonlySet<string>> {
    const source = this.options.revokedDevices!;
    const now = this.now();
    const cached = this.revoked;
    if (
      cached &&
      now - cached.fetchedAt < (this.options.revocationRefreshMs ?? ACCESS_TOKEN.revocationRefreshMs)
    ) {
      return cached.ids;
    }
    this.revokedInFlight ??= source()
      .then((ids) => {
        const fresh = new Set(ids);
        this.revoked = { ids: fresh, fetchedAt: now };
        return fresh;
      })
      .finally(() => {
        this.revokedInFlight = undefined;
      });
    try {
      return await this.revokedInFlight;
    } catch {
      if (cached && now - cached.fetchedAt < STALE_REVOCATIONS_LIMIT_MS) return cached.ids;
      throw unavailable('cannot fetch the revoked sessions from auth: retry shortly');
    }
  }
}

/** The `kid` a token names; a token without one cannot be matched to a key and is refused. */
function keyIdOf(token: string): string {
  let kid: unknown;
  try {
    ({ kid } = decodeProtectedHeader(token));
  } catch {
    throw unauthenticated('access token is invalid');
  }
  if (typeof kid !== 'string' || kid === '') throw unauthenticated('access token has no key id');
  return kid;
}

export function principalFromClaims(claims: Partial<AccessTokenClaims>): Principal {
  const { sub, dev, email, ns } = claims;
  if (!sub || !dev || !email || !Array.isArray(ns) || ns.some((id) => typeof id !== 'string')) {
    throw unauthenticated('access token lacks required claims');
  }
  return {
    userId: sub,
    deviceId: dev,
    email,
    emailVerified: claims.email_verified === true,
    namespaceIds: ns,
  };
}

function toUnauthenticated(error: unknown) {
  if (error instanceof joseErrors.JWTExpired)
    return unauthenticated('access token expired: refresh the session');
  if (error instanceof joseErrors.JOSEError) return unauthenticated('access token is invalid');
  // jose rejects malformed input it cannot even parse with TypeError and friends: still the token's fault.
  return unauthenticated('access token is invalid');
}

/**
 * A verifier fed by the auth service at `authAddress`, and the means to close its channel.
 * `credentials`: how to reach auth (peerCredentials of the service's settings); default plaintext.
 */
export function connectTokenVerifier(
  authAddress: string,
  credentials: ChannelCredentials = insecureCredentials(),
): { verifier: TokenVerifier; close(): void } {
  const client = new auth.AuthServiceClient(
    authAddress,
    credentials,
    channelOptions(auth.AuthServiceClient.serviceName),
  );
  return {
    verifier: new JwksTokenVerifier(authServicePublicKeys(client), {
      revokedDevices: authServiceRevokedDevices(client),
    }),
    close: () => client.close(),
  };
}
