import { backoffMs, type BackoffPolicy, type Clock } from './clock';

/** Why a pass runs. */
export type PassReason = 'start' | 'local' | 'remote' | 'rescan' | 'retry';

/** What the passes since the last one were asked for, merged. */
export interface PassRequest {
  /** Folder-relative paths file-system events named (a hint: every pass still scans). */
  readonly localPaths: ReadonlySet<string>;
  /** The highest journal cursor the server announced; 0 when no announcement asked for this pass. */
  readonly remoteCursor: number;
  /** Compare the whole folder with the server (start, lost events, a cursor the server refuses). */
  readonly full: boolean;
  readonly reasons: ReadonlySet<PassReason>;
}

/**
 * How a pass ended, as the scheduler needs to know it: `ok`, `retry` (it failed on something
 * passing, such as the network: run it again after a backoff, its request kept), or `stop` (the
 * loop must end, e.g. the folder is gone). A pass that throws ends the loop with that error.
 */
export type PassOutcome = 'ok' | 'retry' | 'stop';

export interface SchedulerOptions {
  /** Quiet time after the last local event before a pass starts, ms. */
  readonly debounceMs: number;
  /** Longest a local event waits for a pass while events keep coming, ms. */
  readonly maxDelayMs: number;
  /** Delays between retries of failed passes. */
  readonly retry: BackoffPolicy;
  readonly clock: Clock;
}

export const DEFAULT_SCHEDULER_TIMING = {
  debounceMs: 50,
  maxDelayMs: 1_000,
  retry: { baseMs: 1_000, maxMs: 60_000 },
} as const;

/**
 * Decides when the sync passes of one watched folder run: local events are debounced (a quiet
 * window, with a longest wait so a constant writer still syncs), server announcements and
 * rescans run at once, a pass never runs while another does (whatever arrives meanwhile makes
 * one more pass), and a failed pass is retried with exponential backoff and jitter.
 */
export class PassScheduler {
  private paths = new Set<string>();
  private remoteCursor = 0;
  private full = false;
  private reasons = new Set<PassReason>();
  /** When the oldest and newest local events still waiting for a pass came; 0: none waits. */
  private firstLocalAtMs = 0;
  private lastLocalAtMs = 0;
  private retryAttempt = 0;
  private retryAtMs = 0;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;
  /** Settles when the loop ends: stop(), a pass that said `stop`, or one that threw (rejects). */
  readonly done: Promise<void>;

  constructor(
    private readonly runPass: (request: PassRequest) => Promise<PassOutcome>,
    private readonly options: SchedulerOptions,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  /** A file-system event at `path` (folder-relative). */
  local(path: string): void {
    const now = this.options.clock.now();
    this.paths.add(path);
    this.reasons.add('local');
    if (this.firstLocalAtMs === 0) this.firstLocalAtMs = now;
    this.lastLocalAtMs = now;
    this.schedule();
  }

  /** The server announced changes up to `cursor`. */
  remote(cursor: number): void {
    this.remoteCursor = Math.max(this.remoteCursor, cursor);
    this.reasons.add('remote');
    this.schedule();
  }

  /** Events may have been lost (an overflow, a watcher error), or the pass must compare everything. */
  rescan(reason: PassReason = 'rescan'): void {
    this.full = true;
    this.reasons.add(reason);
    this.schedule();
  }

  /** A pass that is not a full diff but has no event to name (the first pass of the loop). */
  kick(reason: PassReason): void {
    this.reasons.add(reason);
    this.schedule();
  }

  /** No more passes; resolves once the running pass (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.running;
    this.resolveDone();
  }

  get idle(): boolean {
    return this.running === undefined && this.reasons.size === 0;
  }

  private schedule(): void {
    if (this.stopped || this.running || this.reasons.size === 0) return;
    this.clearTimer();
    const now = this.options.clock.now();
    let dueAtMs = now;
    if (!this.full && this.remoteCursor === 0 && !this.reasons.has('start')) {
      if (this.firstLocalAtMs > 0) {
        dueAtMs = Math.min(
          this.lastLocalAtMs + this.options.debounceMs,
          this.firstLocalAtMs + this.options.maxDelayMs,
        );
      }
    }
    // A failing server is not asked again before the backoff says, whatever the trigger.
    dueAtMs = Math.max(dueAtMs, this.retryAtMs);
    this.timer = this.options.clock.setTimer(() => this.fire(), Math.max(0, dueAtMs - now));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped || this.running) return;
    const request: PassRequest = {
      localPaths: this.paths,
      remoteCursor: this.remoteCursor,
      full: this.full,
      reasons: this.reasons,
    };
    this.paths = new Set();
    this.remoteCursor = 0;
    this.full = false;
    this.reasons = new Set();
    this.firstLocalAtMs = 0;
    this.lastLocalAtMs = 0;
    this.running = this.runPass(request).then(
      (outcome) => {
        this.running = undefined;
        if (outcome === 'stop') {
          this.stopped = true;
          this.resolveDone();
          return;
        }
        if (outcome === 'retry') {
          this.retryAttempt += 1;
          this.retryAtMs =
            this.options.clock.now() +
            backoffMs(this.retryAttempt, this.options.retry, () => this.options.clock.random());
          this.merge(request);
          this.reasons.add('retry');
        } else {
          this.retryAttempt = 0;
          this.retryAtMs = 0;
        }
        this.schedule();
      },
      (error: unknown) => {
        this.running = undefined;
        this.stopped = true;
        this.clearTimer();
        this.rejectDone(error);
      },
    );
  }

  /** Puts a failed pass's request back, under whatever arrived while it ran. */
  private merge(request: PassRequest): void {
    for (const path of request.localPaths) this.paths.add(path);
    this.remoteCursor = Math.max(this.remoteCursor, request.remoteCursor);
    this.full ||= request.full;
    for (const reason of request.reasons) this.reasons.add(reason);
  }
}
