import { randomUUID } from 'node:crypto';
import type { auth } from '@filesync/contracts';
import { as, unary, type Stubs } from './grpc';
import { verificationCode } from './mailbox';

export const TEST_PASSWORD = 'correct horse battery staple';

/** A fresh address per call, so test files and reruns never share an account. */
export function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.com`;
}

/** Signs a new account up through the auth stub and returns its first session. */
export async function signUp(stubs: Stubs, label: string, email = uniqueEmail(label)): Promise<auth.Session> {
  const response = await unary(
    stubs.auth.signUp.bind(stubs.auth),
    { email, password: TEST_PASSWORD, deviceName: `${label}-device` },
    as(),
  );
  if (!response.session) throw new Error('SignUp answered without a session');
  return response.session;
}

/**
 * Signs a new account up and confirms its address with the code from the mailbox (the SES
 * emulator at `sesEndpoint`): notifications need a verified address.
 */
export async function signUpVerified(
  stubs: Stubs,
  sesEndpoint: string,
  label: string,
  email = uniqueEmail(label),
): Promise<auth.Session> {
  const session = await signUp(stubs, label, email);
  const code = await verificationCode(sesEndpoint, session.email);
  const verified = await unary(stubs.auth.verifyEmail.bind(stubs.auth), { code }, as(session));
  return {
    ...session,
    emailVerified: true,
    accessToken: verified.accessToken,
    accessTokenExpiresAtMs: verified.accessTokenExpiresAtMs,
  };
}
