import type { Logger } from '@filesync/server-kit';

/** One pending change event: its outbox id and the SQS message body. */
export interface OutboxMessage {
  readonly id: string;
  readonly body: string;
}

/** Where committed transactions left their events. */
export interface Outbox {
  /** Up to limit pending messages, in no particular order. */
  pending(limit: number): Promise<OutboxMessage[]>;
  remove(ids: readonly string[]): Promise<void>;
}

/** The queue the notifier consumes. */
export interface EventQueue {
  /** Sends up to 10 messages; reports which ids the queue accepted. */
  publish(
    messages: readonly OutboxMessage[],
  ): Promise<{ accepted: string[]; failed: { id: string; reason: string }[] }>;
}

export interface RelayOptions {
  readonly intervalMs?: number;
  /** Messages taken from the outbox per round. */
  readonly roundSize?: number;
}

const QUEUE_BATCH = 10;
/** SQS refuses a whole batch above 256 KiB, so batches stay below it. */
const QUEUE_BATCH_BYTES = 250 * 1024;

/** Splits messages into queue batches of at most 10 messages and QUEUE_BATCH_BYTES bytes. */
export function queueBatches(messages: readonly OutboxMessage[]): OutboxMessage[][] {
  const batches: OutboxMessage[][] = [];
  let batch: OutboxMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.body, 'utf8');
    if (batch.length > 0 && (batch.length >= QUEUE_BATCH || bytes + size > QUEUE_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Moves change events from the outbox to the queue. An item is removed only after the queue
 * accepted it, so a crash or a failed send leaves it for the next round: events may arrive twice
 * (the notifier dedupes by eventId), never zero times. Rounds never overlap; a kick during a round
 * schedules one more.
 */
export class OutboxRelay {
  private readonly intervalMs: number;
  private readonly roundSize: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly queue: EventQueue,
    private readonly logger: Pick<Logger, 'warn' | 'error' | 'debug'>,
    options: RelayOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1_000;
    this.roundSize = options.roundSize ?? 100;
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Asks for a round soon (after a commit); returns at once. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no round is running (kicks during a round extend it). */
  async whenIdle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        const { taken, removed } = await this.round();
        // A full round that emptied its share suggests a backlog: keep going without waiting.
        if (taken === this.roundSize && removed === taken) this.again = true;
      } catch (error) {
        this.logger.error({ err: error }, 'outbox relay round failed; retrying next round');
      }
    } while (this.again && !this.stopped);
  }

  /** One pass: send pending messages in batches, remove what the queue accepted. */
  async round(): Promise<{ taken: number; removed: number }> {
    const messages = await this.outbox.pending(this.roundSize);
    let removed = 0;
    for (const batch of queueBatches(messages)) {
      let accepted: string[];
      try {
        const result = await this.queue.publish(batch);
        accepted = result.accepted;
        if (result.failed.length > 0) {
          this.logger.warn(
            { failed: result.failed },
            'queue refused some change events; they stay in the outbox',
          );
        }
      } catch (error) {
        this.logger.warn({ err: error }, 'sending change events failed; they stay in the outbox');
        continue;
      }
      const sent = new Set(accepted);
      const ids = batch.map((message) => message.id).filter((id) => sent.has(id));
      if (ids.length > 0) {
        await this.outbox.remove(ids);
        removed += ids.length;
      }
    }
    if (messages.length > 0) this.logger.debug({ taken: messages.length, removed }, 'outbox relay round');
    return { taken: messages.length, removed };
  }
}
