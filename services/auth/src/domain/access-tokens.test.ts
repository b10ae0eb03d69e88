import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT, decodeProtectedHeader, jwtVerify, createLocalJWKSet } from 'jose';
import { ACCESS_TOKEN } from '@filesync/server-kit';
import { FakeClock } from '../testing/in-memory-stores';
import { AccessTokenSigner, LocalTokenVerifier, signingKeyFrom } from './access-tokens';

const principal = { userId: 'user-1', deviceId: 'dev-1', email: 'a@example.com', namespaceIds: ['ns-1'] };

async function setup() {
  const clock = new FakeClock();
  const key = await signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
  return {
    clock,
    key,
    signer: new AccessTokenSigner(key, 900, clock),
    verifier: new LocalTokenVerifier(key.publicKey, clock),
  };
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
      .setProtectedHeader({ alg: 'EdDSA' })
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

  it('accepts only Ed25519 signing keys', async () => {
    await expect(
      signingKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    ).rejects.toThrow(/Ed25519/);
  });
});
