import pino from 'pino';
import type { ChangeEvent } from './change-event';
import { ChangeEventDelivery } from './deliver';
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
  const delivery = new ChangeEventDelivery({
    ledger,
    mailer,
    clock: new FakeClock(),
    logger: pino({ level: 'silent' }),
  });
  return { ledger, mailer, delivery };
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
    expect(ledger.claims.has('ns-1:7/u-1')).toBe(true);

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
