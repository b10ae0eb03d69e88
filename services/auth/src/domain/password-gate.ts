import { setTimeout as sleepFor } from 'node:timers/promises';
import { resourceExhausted, type DomainError } from '@filesync/server-kit';
import type { PasswordHasher } from './passwords';

export interface PasswordGateLimits {
  /** Argon2 runs at once in this process (each holds a libuv thread and ~19 MiB). */
  readonly maxConcurrent: number;
  /** Runs allowed to wait for a slot; beyond this a call is refused at once. */
  readonly maxQueued: number;
}

/**
 * A global, IP- and email-independent cap on password hashing per process. Argon2 is the one
 * expensive step of auth: without a bound, a flood of logins (each within its own per-email
 * allowance) queues every real user's login behind it. With it, at most maxConcurrent hashes run
 * and maxQueued wait, so a login waits at most (maxQueued / maxConcurrent + 1) hash times;
 * anything more is refused immediately with RESOURCE_EXHAUSTED and a `retry-after-ms` estimate,
 * which clients honour. Only accounts that exist spend a slot (see gatedHasher): logins of
 * unknown emails never hash, so rotating made-up emails cannot fill it.
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
      this.refuseIfFull();
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

  /** Throws the busy error a run would get now, so a caller that never runs can answer alike. */
  refuseIfFull(): void {
    if (this.running >= this.limits.maxConcurrent && this.waiting.length >= this.limits.maxQueued) {
      const queuedRounds = Math.ceil((this.waiting.length + this.running) / this.limits.maxConcurrent);
      throw busyCheckingPasswords(Math.ceil(queuedRounds * this.averageMs));
    }
  }
}

function busyCheckingPasswords(estimateMs: number): DomainError {
  const retryAfterMs = Math.max(100, estimateMs);
  return resourceExhausted(
    `the server is busy checking passwords: retry in ${retryAfterMs} ms`,
    retryAfterMs,
  );
}

export interface UnknownEmailLimits {
  /** Logins of unknown emails waiting out their delay at once; beyond it they are refused. */
  readonly maxPending: number;
}

/**
 * Answers logins of emails without an account after about the time a real check takes, without
 * hashing: the delay is drawn from the last real verifications (queue wait included), so the
 * response time does not tell whether the account exists, while a flood of made-up emails costs
 * a timer each instead of an argon2 run and a slot in the gate. Timers are cheap but each pending
 * call still holds a request, so they are capped too, far above the gate: beyond maxPending an
 * unknown email is refused with the gate's own busy answer.
 */
export class UnknownEmailDelay {
  private readonly recentMs: number[] = [];
  private nextSample = 0;
  private pending = 0;

  constructor(
    private readonly limits: UnknownEmailLimits,
    private readonly sleep: (ms: number) => Promise<unknown> = (ms) => sleepFor(ms),
    private readonly random: () => number = Math.random,
  ) {}

  /** One real verification's duration as its caller saw it, in ms. */
  record(durationMs: number): void {
    this.recentMs[this.nextSample] = durationMs;
    this.nextSample = (this.nextSample + 1) % RECENT_SAMPLES;
  }

  async wait(): Promise<void> {
    const delayMs = this.draw();
    if (this.pending >= this.limits.maxPending) throw busyCheckingPasswords(delayMs);
    this.pending += 1;
    try {
      await this.sleep(delayMs);
    } finally {
      this.pending -= 1;
    }
  }

  /** Unknown-email logins waiting, for tests and metrics. */
  load(): { pending: number } {
    return { pending: this.pending };
  }

  private draw(): number {
    // Before any real login (a fresh process) the composition root records a calibration run.
    if (this.recentMs.length === 0) return FALLBACK_DELAY_MS;
    return this.recentMs[Math.floor(this.random() * this.recentMs.length)]!;
  }
}

/** Enough samples to follow load within seconds, few enough that one outlier fades. */
const RECENT_SAMPLES = 32;
const FALLBACK_DELAY_MS = 100;

export interface PasswordChecks {
  /** Every argon2 run: logins of existing accounts and sign-ups. */
  readonly gate: PasswordGate;
  /**
   * Sign-ups only, nested inside `gate` with a share of its capacity: a flood of sign-ups for
   * fresh emails (each one must hash) can hold at most that share, never every slot logins need.
   */
  readonly signUps: PasswordGate;
  readonly unknownEmails: UnknownEmailDelay;
}

/**
 * Sign-ups may hold at most half the gate's slots (running or queued there; one when it has just
 * one); the rest wait in their own queue, outside the gate, so logins always find places in it.
 */
export function signUpLimits(limits: PasswordGateLimits): PasswordGateLimits {
  return { maxConcurrent: Math.max(1, Math.floor(limits.maxConcurrent / 2)), maxQueued: limits.maxQueued };
}

/**
 * `inner` behind the caps: hashes (sign-up) and verifies (login of an existing account) through
 * the gate, verifies timed for the unknown-email delay; an unknown email's dummy check waits that
 * delay instead of hashing, and is refused exactly when the gate would refuse a real check, so
 * even a full gate answers both alike.
 */
export function gatedHasher(
  inner: PasswordHasher,
  { gate, signUps, unknownEmails }: PasswordChecks,
  nowMs: () => number = () => performance.now(),
): PasswordHasher {
  return {
    hash: (password) => signUps.run(() => gate.run(() => inner.hash(password))),
    async verify(passwordHash, password) {
      const started = nowMs();
      const valid = await gate.run(() => inner.verify(passwordHash, password));
      unknownEmails.record(nowMs() - started);
      return valid;
    },
    async verifyDummy() {
      gate.refuseIfFull();
      await unknownEmails.wait();
    },
  };
}
