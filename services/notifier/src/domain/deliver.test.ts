import pino from 'pino';
import { CHANGE_EVENTS_QUEUE } from '@filesync/resources';
import type { ChangeEvent } from './change-event';
import { CLAIM_LEASE_MS, ChangeEventDelivery, SEND_DEADLINE_MS } from './deliver';
import type { ReceivedMessage } from './ports';
import { FakeClock, FakeLedger, FakeMailer } from './testing/fakes';

const event: ChangeEvent = {
  eventId: 'ns-1:7',
  namespaceId: 'ns-1',
  seq: 7,
  committedAtMs: 1_700_000_000_000,
  actor: { userId: 'u-actor', deviceId: 'dev-1', email: 'actor@example.com' },
  changes: [
    { path: 'docs/a.txt', version: 3, deleted: false, size: 2048 },
    { path: 'docs/b.txt', version: 2, deleted: true, size: 0 },
  ],
  recipients: [
    { userId: 'u-1', email: 'one@example.com', emailVerified: true, paths: ['docs/a.txt', 'docs/b.txt'] },
    { userId: 'u-2', email: 'two@example.com', emailVerified: true, paths: ['docs/a.txt'] },
  ],
};

const message = (body: string, id = 'm-1'): ReceivedMessage => ({
  id,
  receiptHandle: `rh-${id}`,
  body,
  receiveCount: 1,
});

function setup() {
  const ledger = new FakeLedger();
  const mailer = new FakeMailer();
  const clock = new FakeClock();
  const delivery = new ChangeEventDelivery({ ledger, mailer, clock, logger: pino({ level: 'silent' }) });
  return { ledger, mailer, clock, delivery };
}

describe('ChangeEventDelivery (with in-memory fakes of ledger and mailer)', () => {
  it('mails each recipient once and records the history', async () => {
    const { ledger, mailer, delivery } = setup();
    expect(await delivery.handle(message(JSON.stringify(event)))).toBe('handled');

    expect(mailer.sent.map((m) => [m.to, m.subject])).toEqual([
      ['one@example.com', 'filesync: 2 changes in your followed folders'],
      ['two@example.com', 'filesync: 1 change in your followed folders'],
    ]);
    expect(mailer.sent[0]?.text).toContain('actor@example.com');
    expect(ledger.history.map((d) => [d.userId, d.eventId, d.messageId, d.paths])).toEqual([
      ['u-1', 'ns-1:7', 'mail-1', ['docs/a.txt', 'docs/b.txt']],
      ['u-2', 'ns-1:7', 'mail-2', ['docs/a.txt']],
    ]);
  });

  it('sends one mail when the same event is delivered twice', async () => {
    const { mailer, delivery } = setup();
    const body = JSON.stringify(event);
    expect(await delivery.handle(message(body, 'm-1'))).toBe('handled');
    expect(await delivery.handle(message(body, 'm-2'))).toBe('handled');
    expect(mailer.sent.filter((m) => m.to === 'one@example.com')).toHaveLength(1);
    expect(mailer.sent).toHaveLength(2);
  });

  it('releases the claim and keeps the message when the mail service fails, then retries only that mail', async () => {
    const { ledger, mailer, delivery } = setup();
    mailer.failing.add('two@example.com');
    const body = JSON.stringify(event);

    expect(await delivery.handle(message(body))).toBe('retry');
    expect(ledger.claims.has('ns-1:7/u-2')).toBe(false);
    expect(ledger.claims.get('ns-1:7/u-1')?.state).toBe('sent');

    mailer.failing.clear();
    expect(await delivery.handle(message(body))).toBe('handled');
    expect(mailer.sent.map((m) => m.to)).toEqual(['one@example.com', 'two@example.com']);
  });

  it('keeps the message when the ledger cannot be reached, without mailing', async () => {
    const { ledger, mailer, delivery } = setup();
    ledger.failClaims = true;
    expect(await delivery.handle(message(JSON.stringify(event)))).toBe('retry');
    expect(mailer.sent).toHaveLength(0);
  });

  it.each([
    ['not JSON', '{oops'],
    ['missing fields', JSON.stringify({ eventId: 'x' })],
    ['a wrong type', JSON.stringify({ ...event, seq: 'seven' })],
  ])('reports a malformed body (%s) without mailing', async (_name, body) => {
    const { mailer, delivery } = setup();
    expect(await delivery.handle(message(body))).toBe('malformed');
    expect(mailer.sent).toHaveLength(0);
  });

  it('handles an event without recipients', async () => {
    const { mailer, delivery } = setup();
    expect(await delivery.handle(message(JSON.stringify({ ...event, recipients: [] })))).toBe('handled');
    expect(mailer.sent).toHaveLength(0);
  });
});

describe('kind 16: the notifier never loses a mail in a crash', () => {
  const single = { ...event, recipients: [event.recipients[0]!] };

  /** A worker that claimed the mail and died before sending it. */
  async function crashedClaim(ledger: FakeLedger, clock: FakeClock) {
    const now = clock.now();
    const claim = await ledger.claim(single.eventId, 'u-1', now, now + CLAIM_LEASE_MS);
    expect(claim.kind).toBe('claimed');
  }

  it('takes over a claim left by a crashed worker once its lease ran out, and mails once', async () => {
    const { ledger, mailer, clock, delivery } = setup();
    await crashedClaim(ledger, clock);

    // The redelivery within the lease keeps the event: the other worker may still be sending.
    expect(await delivery.handle(message(JSON.stringify(single), 'm-2'))).toBe('retry');
    expect(mailer.sent).toHaveLength(0);

    clock.advance(CLAIM_LEASE_MS);
    expect(await delivery.handle(message(JSON.stringify(single), 'm-3'))).toBe('handled');
    expect(mailer.sent.map((m) => m.to)).toEqual(['one@example.com']);

    // Sent is for good: later redeliveries, however late, do not mail again.
    clock.advance(10 * CLAIM_LEASE_MS);
    expect(await delivery.handle(message(JSON.stringify(single), 'm-4'))).toBe('handled');
    expect(mailer.sent).toHaveLength(1);
    expect(ledger.history).toHaveLength(1);
  });

  it('a late failure of the crashed worker does not release the claim another worker took over', async () => {
    const { ledger, clock } = setup();
    const first = await ledger.claim('e', 'u', clock.now(), clock.now() + CLAIM_LEASE_MS);
    clock.advance(CLAIM_LEASE_MS + 1);
    const second = await ledger.claim('e', 'u', clock.now(), clock.now() + CLAIM_LEASE_MS);
    expect(second.kind).toBe('claimed');
    if (first.kind !== 'claimed') throw new Error('first claim failed');
    await ledger.release('e', 'u', first.claimId);
    expect(await ledger.claim('e', 'u', clock.now(), clock.now() + CLAIM_LEASE_MS)).toMatchObject({
      kind: 'in-progress',
    });
  });

  it('a live send always ends before its claim can be taken over, and the redelivery finds it run out', () => {
    expect(SEND_DEADLINE_MS * 2).toBeLessThanOrEqual(CLAIM_LEASE_MS);
    expect(CLAIM_LEASE_MS).toBeLessThan(CHANGE_EVENTS_QUEUE.visibilityTimeoutSeconds * 1000);
  });
});
