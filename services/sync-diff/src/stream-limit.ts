import { resourceExhausted } from '@filesync/server-kit';

/**
 * Diff streams a user may have open at once in this process. Each stream holds a metadata
 * listing open and a little memory; a client looping on Diff (or many of one user's devices at
 * once) must not crowd out everybody else.
 */
export class StreamLimit {
  private readonly open = new Map<string, number>();

  constructor(
    private readonly perUser: number,
    /** What a refused client is told to wait: about the time one diff of a large folder takes. */
    private readonly retryAfterMs: number,
  ) {}

  /** Takes a slot for the user, or throws RESOURCE_EXHAUSTED; the returned function gives it back. */
  acquire(userId: string): () => void {
    const current = this.open.get(userId) ?? 0;
    if (current >= this.perUser) {
      throw resourceExhausted(
        `at most ${this.perUser} Diff streams per user at once: retry when one has finished`,
        this.retryAfterMs,
      );
    }
    this.open.set(userId, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(userId) ?? 1) - 1;
      if (left > 0) this.open.set(userId, left);
      else this.open.delete(userId);
    };
  }

  /** Streams open for a user (for tests and metrics). */
  openFor(userId: string): number {
    return this.open.get(userId) ?? 0;
  }
}
