/** Time as the watch loop sees it: real timers in use, a fake one in tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `run` once after `ms` milliseconds; the handle cancels it. */
  setTimer(run: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** A number in [0, 1): the jitter of backoffs. */
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (run, ms) => setTimeout(run, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  random: () => Math.random(),
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (never rejects). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clock.clearTimer(handle);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const handle = clock.setTimer(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface BackoffPolicy {
  /** The delay before the first retry, in milliseconds; each further retry doubles it. */
  readonly baseMs: number;
  /** The most any delay grows to, in milliseconds. */
  readonly maxMs: number;
}

/**
 * The delay before retry number `attempt` (1 for the first): exponential, capped, with jitter in
 * its upper half, so that many clients cut off together do not all come back in the same instant
 * while none retries much sooner than the policy says.
 */
export function backoffMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(cap / 2 + random() * (cap / 2));
}
