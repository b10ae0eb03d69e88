import { DomainError, type CallContext } from '@filesync/server-kit';
import type { CallBudget } from './domain/ports';

/**
 * The budget of a downstream call made for the caller: its token, its cancellation, and the
 * caller's deadline capped at `capMs` from now (a caller without a deadline must not hold a
 * metadata stream open forever).
 */
export function callBudget(
  context: Pick<CallContext, 'bearerToken' | 'deadline' | 'signal'>,
  capMs: number,
  now = Date.now(),
): CallBudget {
  const capped = now + capMs;
  const deadline = context.deadline ? Math.min(context.deadline.getTime(), capped) : capped;
  if (deadline <= now) {
    throw new DomainError('deadline-exceeded', 'the call deadline passed before the server state was read');
  }
  return { accessToken: context.bearerToken, deadline: new Date(deadline), signal: context.signal };
}
