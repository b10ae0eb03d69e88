import type { Metadata } from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { unauthenticated } from '../errors';
import type { Logger } from '../logger';
import type { Principal, TokenVerifier } from '../auth/principal';

/** What a handler knows of the call besides its request: who calls, until when, and a logger. */
export interface CallContext {
  readonly method: string;
  readonly metadata: Metadata;
  /** Aborted when the client cancels or the deadline passes. Pass it to downstream calls. */
  readonly signal: AbortSignal;
  /** The caller's deadline, or undefined when the client set none. */
  readonly deadline: Date | undefined;
  readonly logger: Logger;
  /** The bearer token exactly as sent, for calls made on the caller's behalf. */
  readonly bearerToken: string | undefined;
  /** The verified caller; throws UNAUTHENTICATED when the token is missing, expired or forged. */
  principal(): Promise<Principal>;
  /**
   * Unix ms the caller's access token expires at (its `exp`), once principal() verified it; a
   * long call (a stream) ends then, so that the client refreshes its session. Always set by
   * implement(); optional so that hand-made contexts (tests) need not.
   */
  principalExpiresAtMs?(): Promise<number>;
}

export function bearerTokenOf(metadata: Metadata): string | undefined {
  const header = metadata.get('authorization')[0];
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export function createContext(options: {
  method: string;
  metadata: Metadata;
  signal: AbortSignal;
  deadline: Date | undefined;
  logger: Logger;
  verifier: TokenVerifier | undefined;
}): CallContext {
  const token = bearerTokenOf(options.metadata);
  let verified: Promise<Principal> | undefined;
  return {
    method: options.method,
    metadata: options.metadata,
    signal: options.signal,
    deadline: options.deadline,
    logger: options.logger,
    bearerToken: token,
    principal() {
      if (!options.verifier) throw new Error(`${options.method}: no token verifier configured`);
      if (!token) {
        return Promise.reject(unauthenticated('missing access token: send "authorization: Bearer <token>"'));
      }
      verified ??= options.verifier.verify(token);
      return verified;
    },
    async principalExpiresAtMs() {
      await this.principal();
      // Verified above: `exp` is present (a required claim) and signed.
      return decodeJwt(token!).exp! * 1000;
    },
  };
}
