import { randomUUID } from 'node:crypto';
import type { auth } from '@filesync/contracts';
import { as, unary, type Stubs } from './grpc';

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
