import { createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, type JWK } from 'jose';
import {
  ACCESS_TOKEN,
  JwksTokenVerifier,
  type AccessTokenClaims,
  type Principal,
  type RevokedDeviceSource,
  type TokenVerifier,
} from '@filesync/server-kit';
import type { Clock } from './ports';

/** The published form of the signing key (GetPublicKeys). */
export interface PublishedKey {
  readonly keyId: string;
  readonly algorithm: string;
  readonly jwk: JWK;
}

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly published: PublishedKey;
}

/** The key id is the JWK thumbprint (RFC 7638), so it changes exactly when the key does. */
export async function signingKeyFrom(privateKey: KeyObject): Promise<SigningKey> {
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error('access tokens are signed with Ed25519 keys only');
  const publicKey = createPublicKey(privateKey);
  const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
  const keyId = await calculateJwkThumbprint(publicJwk, 'sha256');
  return {
    privateKey,
    publicKey,
    published: {
      keyId,
      algorithm: ACCESS_TOKEN.algorithm,
      jwk: { ...publicJwk, kid: keyId, alg: ACCESS_TOKEN.algorithm, use: 'sig' },
    },
  };
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly expiresAtMs: number;
}

export class AccessTokenSigner {
  constructor(
    private readonly key: SigningKey,
    private readonly ttlSeconds: number,
    private readonly clock: Clock,
  ) {}

  async sign(principal: Principal): Promise<IssuedAccessToken> {
    const issuedAt = Math.floor(this.clock.now() / 1000);
    const expiresAt = issuedAt + this.ttlSeconds;
    const claims: Omit<AccessTokenClaims, 'sub' | 'iat' | 'exp'> = {
      dev: principal.deviceId,
      email: principal.email,
      email_verified: principal.emailVerified,
      ns: [...principal.namespaceIds],
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ACCESS_TOKEN.algorithm, kid: this.key.published.keyId, typ: 'JWT' })
      .setIssuer(ACCESS_TOKEN.issuer)
      .setAudience(ACCESS_TOKEN.audience)
      .setSubject(principal.userId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key.privateKey);
    return { token, expiresAtMs: expiresAt * 1000 };
  }
}

/**
 * Auth verifies its own tokens by the very rules the other services apply (the shared
 * JwksTokenVerifier: key id, required claims, lifetime, revoked devices), fed with its own
 * published key instead of a GetPublicKeys call.
 */
export function localTokenVerifier(
  key: SigningKey,
  clock: Clock,
  revokedDevices: RevokedDeviceSource,
): TokenVerifier {
  const published = {
    keyId: key.published.keyId,
    algorithm: key.published.algorithm,
    jwkJson: JSON.stringify(key.published.jwk),
  };
  return new JwksTokenVerifier(async () => [published], { revokedDevices, now: () => clock.now() });
}
