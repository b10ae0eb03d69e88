import type { Logger } from '@filesync/server-kit';
import type { MessageOutcome } from './deliver';
import type { EventSource, ReceivedMessage } from './ports';

export interface MessageHandler {
  /** Never rejects: every failure is an outcome. */
  handle(message: ReceivedMessage): Promise<MessageOutcome>;
}

export interface ConsumerOptions {
  /** Pause after a failed receive, so a broken queue endpoint is not hammered. */
  readonly errorBackoffMs?: number;
}

/**
 * Drains the change-event queue: receive a batch, handle its messages, acknowledge the handled
 * ones, repeat. stop() aborts the waiting long poll at once but lets a batch in progress finish
 * and be acknowledged, so a shutdown neither loses nor repeats work it already did.
 */
export class ChangeEventConsumer {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly source: EventSource,
    private readonly handler: MessageHandler,
    private readonly logger: Logger,
    private readonly options: ConsumerOptions = {},
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('notifier shutting down'));
    await this.running;
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(): Promise<void> {
    this.logger.info('change-event consumer started');
    while (!this.stopping) {
      let batch: ReceivedMessage[];
      try {
        batch = await this.source.receive(this.abort.signal);
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn({ err: error }, 'receiving change events failed: retrying');
        await pause(this.options.errorBackoffMs ?? 1_000, this.abort.signal);
        continue;
      }
      if (batch.length > 0) await this.handleBatch(batch);
    }
    this.logger.info('change-event consumer stopped');
  }

  private async handleBatch(batch: ReceivedMessage[]): Promise<void> {
    const outcomes = await Promise.all(batch.map((message) => this.handler.handle(message)));
    const handled = batch.filter((_message, index) => outcomes[index] === 'handled');
    if (handled.length === 0) return;
    try {
      await this.source.acknowledge(handled);
    } catch (error) {
      // The messages come back after their visibility timeout; the ledger keeps them from mailing twice.
      this.logger.warn({ err: error, count: handled.length }, 'acknowledging handled messages failed');
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
