import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';

/**
 * Re-signs the claims of a real access token with `key` and the expiry given: a token that
 * differs from a valid one in exactly one way.
 */
async function resign(token: string, key: KeyObject, expiresAtSeconds: number): Promise<string> {
  const header = decodeProtectedHeader(token);
  const { exp: _exp, ...claims } = decodeJwt(token);
  return new SignJWT(claims)
    .setProtectedHeader({ ...header, alg: 'EdDSA' })
    .setExpirationTime(expiresAtSeconds)
    .sign(key);
}

/** Same claims and key id, signed with a key auth never had. */
export function forgedToken(token: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return resign(token, privateKey, Math.floor(Date.now() / 1000) + 600);
}

/** Same claims, signed with auth's own key, expired half an hour ago. */
export function expiredToken(token: string, signingKeyFile: string): Promise<string> {
  const key = createPrivateKey(readFileSync(signingKeyFile, 'utf8'));
  return resign(token, key, Math.floor(Date.now() / 1000) - 1800);
}

/**
 * The claims of a real access token signed again with auth's own key, with one thing changed:
 * a claim left out, or another key id in the header. Only the rules can refuse it.
 */
export async function alteredToken(
  token: string,
  signingKeyFile: string,
  change: { drop?: 'exp' | 'iat'; keyId?: string },
): Promise<string> {
  const key = createPrivateKey(readFileSync(signingKeyFile, 'utf8'));
  const header = decodeProtectedHeader(token);
  const claims = { ...decodeJwt(token) };
  if (change.drop) delete claims[change.drop];
  return new SignJWT(claims)
    .setProtectedHeader({ ...header, alg: 'EdDSA', ...(change.keyId ? { kid: change.keyId } : {}) })
    .sign(key);
}
