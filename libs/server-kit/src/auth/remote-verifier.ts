import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';
import { auth, channelOptions, insecureCredentials, unary } from '@filesync/contracts';
import { unauthenticated } from '../errors';
import { ACCESS_TOKEN, type AccessTokenClaims, type Principal, type TokenVerifier } from './principal';

/** Fetches the signing keys: from the auth service over gRPC, or any other source in tests. */
export type PublicKeySource = () => Promise<auth.PublicKey[]>;

export function authServicePublicKeys(client: auth.AuthServiceClient, timeoutMs = 5_000): PublicKeySource {
  return async () => (await unary(client.getPublicKeys.bind(client), {}, { timeoutMs })).keys;
}

/**
 * Verifies access tokens against the keys auth publishes. Keys are cached; an unknown key id
 * refetches them (key rotation), at most once per refreshIntervalMs.
 */
export class JwksTokenVerifier implements TokenVerifier {
  private keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  private fetchedAt = 0;

  constructor(
    private readonly source: PublicKeySource,
    private readonly refreshIntervalMs = 30_000,
  ) {}

  async verify(token: string): Promise<Principal> {
    try {
      return await this.verifyWith(await this.keys(false), token);
    } catch (error) {
      if (
        error instanceof joseErrors.JWKSNoMatchingKey &&
        Date.now() - this.fetchedAt > this.refreshIntervalMs
      ) {
        return this.verifyWith(await this.keys(true), token);
      }
      throw toUnauthenticated(error);
    }
  }

  private async verifyWith(keySet: ReturnType<typeof createLocalJWKSet>, token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify<AccessTokenClaims>(token, keySet, {
        issuer: ACCESS_TOKEN.issuer,
        audience: ACCESS_TOKEN.audience,
        algorithms: [ACCESS_TOKEN.algorithm],
        clockTolerance: ACCESS_TOKEN.clockToleranceSeconds,
      });
      return principalFromClaims(payload);
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey) throw error;
      throw toUnauthenticated(error);
    }
  }

  private async keys(refresh: boolean) {
    if (!this.keySet || refresh) {
      const keys = await this.source();
      const jwks: JSONWebKeySet = { keys: keys.map((key) => JSON.parse(key.jwkJson) as JWK) };
      this.keySet = createLocalJWKSet(jwks);
      this.fetchedAt = Date.now();
    }
    return this.keySet;
  }
}

export function principalFromClaims(claims: Partial<AccessTokenClaims>): Principal {
  const { sub, dev, email, ns } = claims;
  if (!sub || !dev || !email || !Array.isArray(ns) || ns.some((id) => typeof id !== 'string')) {
    throw unauthenticated('access token lacks required claims');
  }
  return { userId: sub, deviceId: dev, email, namespaceIds: ns };
}

function toUnauthenticated(error: unknown) {
  if (error instanceof joseErrors.JWTExpired)
    return unauthenticated('access token expired: refresh the session');
  if (error instanceof joseErrors.JOSEError) return unauthenticated('access token is invalid');
  return error;
}

/** A verifier fed by the auth service at `authAddress`, and the means to close its channel. */
export function connectTokenVerifier(authAddress: string): { verifier: TokenVerifier; close(): void } {
  const client = new auth.AuthServiceClient(
    authAddress,
    insecureCredentials(),
    channelOptions(auth.AuthServiceClient.serviceName),
  );
  return { verifier: new JwksTokenVerifier(authServicePublicKeys(client)), close: () => client.close() };
}
