// Small in-memory fakes of the notifier's ports, for unit tests only.
import type {
  Clock,
  DeliveryLedger,
  DeliveryRecord,
  EventSource,
  Mailer,
  OutgoingMail,
  ReceivedMessage,
} from '../ports';

export class FakeLedger implements DeliveryLedger {
  readonly claims = new Set<string>();
  readonly history: DeliveryRecord[] = [];
  failClaims = false;

  async claim(eventId: string, userId: string): Promise<boolean> {
    if (this.failClaims) throw new Error('ledger unavailable');
    const key = `${eventId}/${userId}`;
    if (this.claims.has(key)) return false;
    this.claims.add(key);
    return true;
  }

  async release(eventId: string, userId: string): Promise<void> {
    this.claims.delete(`${eventId}/${userId}`);
  }

  async record(delivery: DeliveryRecord): Promise<void> {
    this.history.push(delivery);
  }

  async listForUser(userId: string, limit: number): Promise<DeliveryRecord[]> {
    return this.history
      .filter((d) => d.userId === userId)
      .sort((a, b) => b.sentAtMs - a.sentAtMs)
      .slice(0, limit);
  }
}

export class FakeMailer implements Mailer {
  readonly sent: OutgoingMail[] = [];
  /** Addresses whose sends fail. */
  readonly failing = new Set<string>();

  async send(mail: OutgoingMail): Promise<{ messageId: string }> {
    if (this.failing.has(mail.to)) throw new Error('mail service throttled');
    this.sent.push(mail);
    return { messageId: `mail-${this.sent.length}` };
  }
}

export class FakeClock implements Clock {
  constructor(private current = 1_700_000_000_000) {}
  now(): number {
    this.current += 1;
    return this.current;
  }
}

/** Hands out prepared batches, then waits (like a long poll) until aborted. */
export class FakeEventSource implements EventSource {
  readonly acknowledged: ReceivedMessage[] = [];
  receives = 0;

  constructor(private readonly batches: ReceivedMessage[][]) {}

  receive(signal: AbortSignal): Promise<ReceivedMessage[]> {
    this.receives += 1;
    const next = this.batches.shift();
    if (next) return Promise.resolve(next);
    return new Promise((_resolve, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  async acknowledge(messages: readonly ReceivedMessage[]): Promise<void> {
    this.acknowledged.push(...messages);
  }
}
