import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time comparison of the derived hash; false for a wrong password. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /**
   * For logins of unknown emails: takes about as long as a real verify, so response time does not
   * reveal which emails have accounts. This hasher runs a real verify against a dummy hash; the
   * server's gated one (password-gate.ts) waits a delay drawn from recent real verifies instead,
   * so made-up emails spend no CPU.
   */
  verifyDummy(password: string): Promise<void>;
}

export interface Argon2Cost {
  /** KiB per hash. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane); the library's default algorithm is argon2id. */
export const DEFAULT_ARGON2_COST: Argon2Cost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function argon2Hasher(cost: Argon2Cost = DEFAULT_ARGON2_COST): PasswordHasher {
  // Made up front, so the first unknown email does not pay for two hashes and stand out.
  const dummy = hash(randomBytes(32).toString('base64url'), cost);
  dummy.catch(() => undefined);
  return {
    hash: (password) => hash(password, cost),
    async verify(passwordHash, password) {
      try {
        return await verify(passwordHash, password);
      } catch {
        // A malformed stored hash must not let anyone in, nor leak as an internal error per login.
        return false;
      }
    },
    async verifyDummy(password) {
      await verify(await dummy, password);
    },
  };
}
