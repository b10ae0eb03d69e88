import type { LoginFailures } from './ports';

/** Failed logins per email tolerated within the window before each further attempt must wait. */
export const LOGIN_THROTTLE = {
  freeFailures: 5,
  windowMs: 15 * 60_000,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
} as const;

/**
 * How long a login for this email must wait, in ms (0 = go ahead). After `freeFailures` failures
 * in the window, each further failure doubles the wait after the last one: 1 s, 2 s, 4 s, ...
 * capped, so guessing gets exponentially slower while the owner is locked out for minutes at most.
 */
export function loginDelayMs(failures: LoginFailures | undefined, nowMs: number): number {
  if (!failures || nowMs - failures.firstAtMs > LOGIN_THROTTLE.windowMs) return 0;
  const excess = failures.count - LOGIN_THROTTLE.freeFailures;
  if (excess < 0) return 0;
  const wait = Math.min(LOGIN_THROTTLE.baseDelayMs * 2 ** excess, LOGIN_THROTTLE.maxDelayMs);
  return Math.max(0, failures.lastAtMs + wait - nowMs);
}
