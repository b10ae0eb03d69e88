import type { Clock } from '../clock';

/** A clock whose time moves only when a test says so; timers fire in due order. */
export class FakeClock implements Clock {
  private nowMs = 1_000_000;
  private nextId = 1;
  private readonly timers = new Map<number, { atMs: number; run: () => void }>();

  constructor(private readonly jitter = 0.5) {}

  now(): number {
    return this.nowMs;
  }

  setTimer(run: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { atMs: this.nowMs + ms, run });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  random(): number {
    return this.jitter;
  }

  /** Moves time forward by `ms`, firing due timers (and letting promises settle after each). */
  async advance(ms: number): Promise<void> {
    const end = this.nowMs + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()]
        .filter(([, timer]) => timer.atMs <= end)
        .sort((a, b) => a[1].atMs - b[1].atMs)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.nowMs = Math.max(this.nowMs, due[1].atMs);
      due[1].run();
    }
    this.nowMs = end;
    await settle();
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}

/** Lets queued promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
