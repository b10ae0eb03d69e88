/** A verified caller, from the claims of its access token. */
export interface Principal {
  readonly userId: string;
  readonly deviceId: string;
  readonly email: string;
  /**
   * True once the address was confirmed (VerifyEmail): only then may it receive notifications.
   * Verifiers always set it; optional so that hand-made principals (tests) read as unverified.
   */
  readonly emailVerified?: boolean;
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
  /**
   * The longest an access token may live (auth's TTL setting is capped to it): verifiers refuse a
   * token whose `iat` is older, so a token minted with a far `exp` is bounded all the same.
   */
  maxLifetimeSeconds: 24 * 3600,
  /**
   * How long a verifier trusts its copy of the revoked-devices list: a logged-out device's access
   * token is refused by every service at most this long, plus revocationListMaxAgeMs, plus one
   * fetch, after Logout.
   */
  revocationRefreshMs: 5_000,
  /**
   * How old the list auth answers ListRevokedDevices with may be: each auth process queries
   * DynamoDB for it at most once per this many ms, however often it is asked.
   */
  revocationListMaxAgeMs: 1_000,
} as const;

export interface AccessTokenClaims {
  sub: string;
  dev: string;
  email: string;
  /** OpenID Connect's claim name; absent in tokens minted before verification existed. */
  email_verified?: boolean;
  ns: string[];
  iat: number;
  exp: number;
}
