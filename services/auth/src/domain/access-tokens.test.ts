import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, UnsecuredJWT, decodeProtectedHeader, jwtVerify, createLocalJWKSet } from 'jose';
import { ACCESS_TOKEN } from '@filesync/server-kit';
import { FakeClock } from '../testing/in-memory-stores';
import { AccessTokenSigner, localTokenVerifier, signingKeyFrom } from './access-tokens';

const principal = {
  userId: 'user-1',
  deviceId: 'dev-1',
  email: 'a@example.com',
  emailVerified: false,
  namespaceIds: ['ns-1'],
};

async function setup() {
  const clock = new FakeClock();
  const key = await signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
  const revoked: string[] = [];
  return {
    clock,
    key,
    revoked,
    signer: new AccessTokenSigner(key, 900, clock),
    verifier: localTokenVerifier(key, clock, async () => revoked),
  };
}

/** A token with our claims and key, built by hand so that one part can be left out. */
function handMade(
  key: { privateKey: KeyObject; published: { keyId: string } },
  nowSeconds: number,
  header: { kid?: string } = { kid: key.published.keyId },
) {
  return new SignJWT({ dev: 'dev-1', email: 'a@example.com', ns: ['ns-1'] })
    .setProtectedHeader({ alg: 'EdDSA', ...header })
    .setIssuer(ACCESS_TOKEN.issuer)
    .setAudience(ACCESS_TOKEN.audience)
    .setSubject('user-1')
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + 60);
}

describe('access tokens', () => {
  it('round-trips the principal and expires after the TTL', async () => {
    const { clock, signer, verifier, key } = await setup();
    const issued = await signer.sign(principal);
    expect(issued.expiresAtMs).toBe(clock.now() + 900_000);
    expect(decodeProtectedHeader(issued.token)).toEqual({
      alg: 'EdDSA',
      kid: key.published.keyId,
      typ: 'JWT',
    });
    await expect(verifier.verify(issued.token)).resolves.toEqual(principal);
  });

  it('verifies with the published JWK the way other services do', async () => {
    const { signer, key, clock } = await setup();
    const { token } = await signer.sign(principal);
    const jwks = createLocalJWKSet({ keys: [JSON.parse(JSON.stringify(key.published.jwk))] });
    const { payload } = await jwtVerify(token, jwks, {
      issuer: ACCESS_TOKEN.issuer,
      audience: ACCESS_TOKEN.audience,
      algorithms: ['EdDSA'],
      currentDate: new Date(clock.now()),
    });
    expect(payload).toMatchObject({ sub: 'user-1', dev: 'dev-1', email: 'a@example.com', ns: ['ns-1'] });
    expect(key.published.jwk).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      alg: 'EdDSA',
      kid: key.published.keyId,
    });
    expect(key.published.jwk).not.toHaveProperty('d');
  });

  it('rejects an expired token with a hint to refresh', async () => {
    const { clock, signer, verifier } = await setup();
    const { token } = await signer.sign(principal);
    clock.advance(900_000 + ACCESS_TOKEN.clockToleranceSeconds * 1000 + 1000);
    await expect(verifier.verify(token)).rejects.toMatchObject({
      kind: 'unauthenticated',
      message: expect.stringMatching(/expired/),
    });
  });

  it('rejects a token signed by another key, even with our kid', async () => {
    const { clock, verifier, key } = await setup();
    const forger = await signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
    const forged = await new AccessTokenSigner(
      { ...forger, published: { ...forger.published, keyId: key.published.keyId } },
      900,
      clock,
    ).sign(principal);
    await expect(verifier.verify(forged.token)).rejects.toMatchObject({
      kind: 'unauthenticated',
      message: 'access token is invalid',
    });
  });

  it('rejects tampered claims, unsigned tokens, garbage and a wrong audience', async () => {
    const { clock, signer, verifier, key } = await setup();
    const { token } = await signer.sign(principal);
    const [header, , signature] = token.split('.');
    const claims = Buffer.from(
      JSON.stringify({ sub: 'user-2', dev: 'd', email: 'e@x.io', ns: ['ns-2'] }),
    ).toString('base64url');
    const unsigned = new UnsecuredJWT({ sub: 'user-1', dev: 'd', email: 'e', ns: [] })
      .setIssuer(ACCESS_TOKEN.issuer)
      .setAudience(ACCESS_TOKEN.audience)
      .encode();
    const now = Math.floor(clock.now() / 1000);
    const wrongAudience = await new SignJWT({ dev: 'd', email: 'e', ns: [] })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(ACCESS_TOKEN.issuer)
      .setAudience('someone-else')
      .setSubject('user-1')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key.privateKey);
    for (const bad of [`${header}.${claims}.${signature}`, unsigned, 'not-a-jwt', wrongAudience]) {
      await expect(verifier.verify(bad)).rejects.toMatchObject({ kind: 'unauthenticated' });
    }
  });

  it('rejects a validly signed token that lacks claims', async () => {
    const { clock, verifier, key } = await setup();
    const now = Math.floor(clock.now() / 1000);
    const token = await new SignJWT({ email: 'e@x.io' })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.published.keyId })
      .setIssuedAt(now)
      .setIssuer(ACCESS_TOKEN.issuer)
      .setAudience(ACCESS_TOKEN.audience)
      .setSubject('user-1')
      .setExpirationTime(now + 60)
      .sign(key.privateKey);
    await expect(verifier.verify(token)).rejects.toMatchObject({
      kind: 'unauthenticated',
      message: /claims/,
    });
  });

  describe('kind 14: tokens must carry exp, iat and a known kid, and die with their device', () => {
    it('accepts the hand-made token with everything in place (the control)', async () => {
      const { clock, verifier, key } = await setup();
      const now = Math.floor(clock.now() / 1000);
      const token = await handMade(key, now).sign(key.privateKey);
      await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('refuses a token without exp', async () => {
      const { clock, verifier, key } = await setup();
      const now = Math.floor(clock.now() / 1000);
      const token = await new SignJWT({ dev: 'dev-1', email: 'a@example.com', ns: ['ns-1'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.published.keyId })
        .setIssuer(ACCESS_TOKEN.issuer)
        .setAudience(ACCESS_TOKEN.audience)
        .setSubject('user-1')
        .setIssuedAt(now)
        .sign(key.privateKey);
      await expect(verifier.verify(token)).rejects.toMatchObject({ kind: 'unauthenticated' });
    });

    it('refuses a token without iat, or issued in the future, or older than the longest lifetime', async () => {
      const { clock, verifier, key } = await setup();
      const now = Math.floor(clock.now() / 1000);
      const noIat = await new SignJWT({ dev: 'dev-1', email: 'a@example.com', ns: ['ns-1'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.published.keyId })
        .setIssuer(ACCESS_TOKEN.issuer)
        .setAudience(ACCESS_TOKEN.audience)
        .setSubject('user-1')
        .setExpirationTime(now + 60)
        .sign(key.privateKey);
      const future = await handMade(key, now + 3600).sign(key.privateKey);
      const ancient = await handMade(key, now - ACCESS_TOKEN.maxLifetimeSeconds - 60)
        .setExpirationTime(now + 3600)
        .sign(key.privateKey);
      for (const token of [noIat, future, ancient]) {
        await expect(verifier.verify(token)).rejects.toMatchObject({ kind: 'unauthenticated' });
      }
    });

    it('refuses a token signed by our key that names no kid or another kid', async () => {
      const { clock, verifier, key } = await setup();
      const now = Math.floor(clock.now() / 1000);
      const noKid = await handMade(key, now, {}).sign(key.privateKey);
      const otherKid = await handMade(key, now, { kid: 'some-rotated-out-key' }).sign(key.privateKey);
      await expect(verifier.verify(noKid)).rejects.toMatchObject({ kind: 'unauthenticated' });
      await expect(verifier.verify(otherKid)).rejects.toMatchObject({
        kind: 'unauthenticated',
        message: /unknown key/,
      });
    });

    it('refuses the tokens of a device on the revoked list', async () => {
      const { verifier, signer, revoked } = await setup();
      const { token } = await signer.sign(principal);
      revoked.push(principal.deviceId);
      await expect(verifier.verify(token)).rejects.toMatchObject({
        kind: 'unauthenticated',
        message: /logged out/,
      });
    });
  });

  it('accepts only Ed25519 signing keys', async () => {
    await expect(
      signingKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    ).rejects.toThrow(/Ed25519/);
  });
});
