import pino from 'pino';
import type { ChangeEvent } from './change-event';
import { ChangeEventDelivery } from './deliver';
import { FakeClock, FakeLedger, FakeMailer } from './testing/fakes';

const recipient = (userId: string, emailVerified?: boolean) => ({
  userId,
  email: `${userId}@example.com`,
  ...(emailVerified === undefined ? {} : { emailVerified }),
  paths: ['docs/a.txt'],
});

describe('kind 15: the notifier mails only verified addresses', () => {
  it('mails the verified recipient and skips the unverified and the unmarked (queued before verification)', async () => {
    const mailer = new FakeMailer();
    const delivery = new ChangeEventDelivery({
      ledger: new FakeLedger(),
      mailer,
      clock: new FakeClock(),
      logger: pino({ level: 'silent' }),
    });
    const event: ChangeEvent = {
      eventId: 'ns-1:1',
      namespaceId: 'ns-1',
      seq: 1,
      committedAtMs: 1_700_000_000_000,
      actor: { userId: 'actor', deviceId: 'dev', email: 'actor@example.com' },
      changes: [{ path: 'docs/a.txt', version: 1, deleted: false, size: 1 }],
      recipients: [recipient('verified', true), recipient('unverified', false), recipient('legacy')],
    };
    const outcome = await delivery.handle({
      id: 'm',
      receiptHandle: 'rh',
      body: JSON.stringify(event),
      receiveCount: 1,
    });
    expect(outcome).toBe('handled');
    expect(mailer.sent.map((mail) => mail.to)).toEqual(['verified@example.com']);
  });
});
