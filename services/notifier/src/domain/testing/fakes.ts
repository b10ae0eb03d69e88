// Small in-memory fakes of the notifier's ports, for unit tests only.
import type {
  ClaimOutcome,
  Clock,
  DeliveryLedger,
  DeliveryRecord,
  EventSource,
  Mailer,
  OutgoingMail,
  ReceivedMessage,
} from '../ports';

export class FakeLedger implements DeliveryLedger {
  /** Claims by `<event>/<user>`: sending (with its lease) or sent. */
  readonly claims = new Map<
    string,
    { state: 'sending' | 'sent'; claimId: string; leaseExpiresAtMs: number }
  >();
  readonly history: DeliveryRecord[] = [];
  failClaims = false;
  private nextClaim = 0;

  async claim(eventId: string, userId: string, nowMs: number, leaseUntilMs: number): Promise<ClaimOutcome> {
    if (this.failClaims) throw new Error('ledger unavailable');
    const key = `${eventId}/${userId}`;
    const held = this.claims.get(key);
    if (held?.state === 'sent') return { kind: 'sent' };
    if (held && held.leaseExpiresAtMs > nowMs) {
      return { kind: 'in-progress', leaseExpiresAtMs: held.leaseExpiresAtMs };
    }
    this.nextClaim += 1;
    const claimId = `claim-${this.nextClaim}`;
    this.claims.set(key, { state: 'sending', claimId, leaseExpiresAtMs: leaseUntilMs });
    return { kind: 'claimed', claimId };
  }

  async release(eventId: string, userId: string, claimId: string): Promise<void> {
    const key = `${eventId}/${userId}`;
    const held = this.claims.get(key);
    if (held?.state === 'sending' && held.claimId === claimId) this.claims.delete(key);
  }

  async record(delivery: DeliveryRecord): Promise<void> {
    this.claims.set(`${delivery.eventId}/${delivery.userId}`, {
      state: 'sent',
      claimId: '',
      leaseExpiresAtMs: 0,
    });
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
  /** Moves time on, as a crashed worker's lease runs out. */
  advance(ms: number): void {
    this.current += ms;
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
