import { DomainError } from '@filesync/server-kit';
import type { PasswordHasher } from './passwords';

export interface PasswordGateLimits {
  /** Argon2 runs at once in this process (each holds a libuv thread and ~19 MiB). */
  readonly maxConcurrent: number;
  /** Runs allowed to wait for a slot; beyond this a call is refused at once. */
  readonly maxQueued: number;
}

/**
 * A global, IP- and email-independent cap on password hashing per process. Argon2 is the one
 * expensive step of auth: without a bound, a flood of logins for rotating emails (each within its
 * own per-email allowance) queues every real user's login behind it. With it, at most
 * maxConcurrent hashes run and maxQueued wait, so a real login waits at most
 * (maxQueued / maxConcurrent + 1) hash times; anything more is refused immediately with
 * RESOURCE_EXHAUSTED and a `retry-after-ms` estimate, which clients honour.
 */
export class PasswordGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Moving average of one hash's duration, for the retry estimate. */
  private averageMs = 100;

  constructor(
    private readonly limits: PasswordGateLimits,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.maxConcurrent) {
      if (this.waiting.length >= this.limits.maxQueued) throw this.busy();
      // The slot is handed over by the finishing run, so `running` stays counted.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    const started = this.nowMs();
    try {
      return await work();
    } finally {
      this.averageMs = 0.8 * this.averageMs + 0.2 * (this.nowMs() - started);
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Runs in progress and waiting, for tests and metrics. */
  load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private busy(): DomainError {
    const queuedRounds = Math.ceil((this.waiting.length + this.running) / this.limits.maxConcurrent);
    const retryAfterMs = Math.max(100, Math.ceil(queuedRounds * this.averageMs));
    return new DomainError(
      'resource-exhausted',
      `the server is busy checking passwords: retry in ${retryAfterMs} ms`,
      { 'retry-after-ms': String(retryAfterMs) },
    );
  }
}

/** Every hash and verify of `inner`, sign-up and unknown emails included, through the gate. */
export function gatedHasher(inner: PasswordHasher, gate: PasswordGate): PasswordHasher {
  return {
    hash: (password) => gate.run(() => inner.hash(password)),
    verify: (passwordHash, password) => gate.run(() => inner.verify(passwordHash, password)),
    verifyDummy: (password) => gate.run(() => inner.verifyDummy(password)),
  };
}
