// Wires the auth domain over the in-memory fakes and a fresh Ed25519 key, for unit tests only.
import { generateKeyPairSync } from 'node:crypto';
import { AccessTokenSigner, localTokenVerifier, signingKeyFrom } from '../domain/access-tokens';
import { Accounts } from '../domain/accounts';
import { EmailVerification } from '../domain/email-verification';
import { argon2Hasher, type PasswordHasher } from '../domain/passwords';
import { Sessions } from '../domain/sessions';
import {
  FakeClock,
  FakeVerificationMailer,
  InMemoryAccountStore,
  InMemoryLoginAttemptStore,
  InMemoryRevocationStore,
  InMemoryTokenStore,
} from './in-memory-stores';

/** Cheap argon2id parameters: the tests check behaviour, not cost. */
export const testPasswords = (): PasswordHasher =>
  argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

export const ACCESS_TTL_SECONDS = 900;
export const REFRESH_TTL_SECONDS = 30 * 24 * 3600;

export async function createTestDomain(passwords: PasswordHasher = testPasswords()) {
  const clock = new FakeClock();
  const accountStore = new InMemoryAccountStore();
  const loginAttempts = new InMemoryLoginAttemptStore();
  const tokens = new InMemoryTokenStore();
  const revocations = new InMemoryRevocationStore();
  const key = await signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
  const sessions = new Sessions({
    accounts: accountStore,
    tokens,
    signer: new AccessTokenSigner(key, ACCESS_TTL_SECONDS, clock),
    clock,
    refreshTtlSeconds: REFRESH_TTL_SECONDS,
    revocations,
    accessTokenTtlSeconds: ACCESS_TTL_SECONDS,
  });
  const accounts = new Accounts({
    accounts: accountStore,
    loginAttempts,
    passwords,
    sessions,
    revocations,
    accessTokenTtlSeconds: ACCESS_TTL_SECONDS,
    clock,
  });
  const mailer = new FakeVerificationMailer();
  const verification = new EmailVerification({
    accounts: accountStore,
    store: accountStore,
    mailer,
    sessions,
    clock,
  });
  const verifier = localTokenVerifier(key, clock, () => revocations.revokedDevices(clock.now()));
  return {
    clock,
    accountStore,
    loginAttempts,
    tokens,
    revocations,
    key,
    sessions,
    accounts,
    verifier,
    passwords,
    mailer,
    verification,
  };
}
