/** A verified caller, from the claims of its access token. */
export interface Principal {
  readonly userId: string;
  readonly deviceId: string;
  readonly email: string;
  /** Namespaces the caller may read and write. */
  readonly namespaceIds: readonly string[];
}

export interface TokenVerifier {
  /** Resolves the principal, or rejects with an UNAUTHENTICATED domain error. */
  verify(token: string): Promise<Principal>;
}

/** Access token claims, shared by the signer (auth) and every verifier. */
export const ACCESS_TOKEN = {
  issuer: 'filesync-auth',
  audience: 'filesync',
  algorithm: 'EdDSA',
  /** Allowed clock difference between services, seconds. */
  clockToleranceSeconds: 5,
} as const;

export interface AccessTokenClaims {
  sub: string;
  dev: string;
  email: string;
  ns: string[];
}
