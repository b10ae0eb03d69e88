import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { DomainError } from '../errors';
import { ACCESS_TOKEN } from './principal';
import { JwksTokenVerifier } from './remote-verifier';

async function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = await exportJWK(publicKey);
  const keyId = await calculateJwkThumbprint(jwk);
  return {
    privateKey,
    keyId,
    published: { keyId, algorithm: 'EdDSA', jwkJson: JSON.stringify({ ...jwk, kid: keyId }) },
  };
}

function token(
  privateKey: KeyObject,
  kid: string | undefined,
  claims: { iat?: boolean; exp?: boolean } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ dev: 'dev-1', email: 'a@example.com', ns: ['ns-1'] })
    .setProtectedHeader(kid === undefined ? { alg: 'EdDSA' } : { alg: 'EdDSA', kid })
    .setIssuer(ACCESS_TOKEN.issuer)
    .setAudience(ACCESS_TOKEN.audience)
    .setSubject('user-1');
  if (claims.iat !== false) jwt = jwt.setIssuedAt(now);
  if (claims.exp !== false) jwt = jwt.setExpirationTime(now + 3600);
  return jwt.sign(privateKey);
}

async function rejection(work: Promise<unknown>): Promise<DomainError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw new Error(`expected a DomainError, got ${String(error)}`);
  }
  throw new Error('expected a rejection');
}

describe('kind 11: a token with an unknown key id answers UNAUTHENTICATED, never INTERNAL', () => {
  it('refetches the keys once, then refuses with UNAUTHENTICATED', async () => {
    const ours = await keyPair();
    const stranger = await keyPair();
    let fetches = 0;
    const verifier = new JwksTokenVerifier(
      async () => {
        fetches += 1;
        return [ours.published];
      },
      { keyRefreshIntervalMs: 0 },
    );
    await expect(verifier.verify(await token(ours.privateKey, ours.keyId))).resolves.toMatchObject({
      userId: 'user-1',
    });
    const error = await rejection(verifier.verify(await token(stranger.privateKey, stranger.keyId)));
    expect(error).toMatchObject({ kind: 'unauthenticated', message: /unknown key/ });
    expect(fetches).toBe(2);
  });

  it('does not refetch more than once per interval, and still answers UNAUTHENTICATED', async () => {
    const ours = await keyPair();
    let fetches = 0;
    const verifier = new JwksTokenVerifier(async () => {
      fetches += 1;
      return [ours.published];
    });
    await verifier.verify(await token(ours.privateKey, ours.keyId));
    for (let i = 0; i < 5; i++) {
      await expect(verifier.verify(await token(ours.privateKey, 'rotated-away'))).rejects.toMatchObject({
        kind: 'unauthenticated',
      });
    }
    expect(fetches).toBe(1);
  });

  it('answers UNAVAILABLE, not INTERNAL, when auth cannot be asked for its keys', async () => {
    const ours = await keyPair();
    const verifier = new JwksTokenVerifier(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    await expect(verifier.verify(await token(ours.privateKey, ours.keyId))).rejects.toMatchObject({
      kind: 'unavailable',
    });
  });
});

describe('kind 14: every service requires exp, iat and kid, and refuses revoked devices', () => {
  it('refuses tokens without exp, without iat or without kid', async () => {
    const ours = await keyPair();
    const verifier = new JwksTokenVerifier(async () => [ours.published]);
    for (const bad of [
      await token(ours.privateKey, ours.keyId, { exp: false }),
      await token(ours.privateKey, ours.keyId, { iat: false }),
      await token(ours.privateKey, undefined),
    ]) {
      await expect(verifier.verify(bad)).rejects.toMatchObject({ kind: 'unauthenticated' });
    }
  });

  it('refuses a revoked device once its cached list is renewed, within revocationRefreshMs', async () => {
    const ours = await keyPair();
    let now = Date.now();
    const revoked: string[] = [];
    let listFetches = 0;
    const verifier = new JwksTokenVerifier(async () => [ours.published], {
      revokedDevices: async () => {
        listFetches += 1;
        return [...revoked];
      },
      now: () => now,
    });
    const valid = await token(ours.privateKey, ours.keyId);
    await verifier.verify(valid);
    await verifier.verify(valid);
    expect(listFetches).toBe(1);
    revoked.push('dev-1');
    now += ACCESS_TOKEN.revocationRefreshMs;
    await expect(verifier.verify(valid)).rejects.toMatchObject({
      kind: 'unauthenticated',
      message: /logged out/,
    });
  });

  it('keeps using a recent list while auth is briefly unreachable, then answers UNAVAILABLE', async () => {
    const ours = await keyPair();
    let now = Date.now();
    let up = true;
    const verifier = new JwksTokenVerifier(async () => [ours.published], {
      revokedDevices: async () => {
        if (!up) throw new Error('auth is down');
        return [];
      },
      now: () => now,
    });
    // Signed "now" per the fake clock, which only moves forward within the token's life.
    const valid = await token(ours.privateKey, ours.keyId);
    await verifier.verify(valid);
    up = false;
    now += ACCESS_TOKEN.revocationRefreshMs + 1;
    await expect(verifier.verify(valid)).resolves.toMatchObject({ deviceId: 'dev-1' });
    now += 15 * 60_000;
    await expect(verifier.verify(valid)).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
