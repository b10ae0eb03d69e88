import pino from 'pino';
import type { ChangeEvent } from './change-event';
import { ChangeEventConsumer } from './consumer';
import { ChangeEventDelivery } from './deliver';
import type { ReceivedMessage } from './ports';
import { FakeClock, FakeEventSource, FakeLedger, FakeMailer } from './testing/fakes';

const logger = pino({ level: 'silent' });

const event = (seq: number): ChangeEvent => ({
  eventId: `ns:${seq}`,
  namespaceId: 'ns',
  seq,
  committedAtMs: 1,
  actor: { userId: 'a', deviceId: 'd', email: 'a@example.com' },
  changes: [{ path: 'f', version: 1, deleted: false, size: 1 }],
  recipients: [{ userId: 'u', email: 'u@example.com', emailVerified: true, paths: ['f'] }],
});

const message = (id: string, body: string): ReceivedMessage => ({
  id,
  receiptHandle: `rh-${id}`,
  body,
  receiveCount: 1,
});

async function until(condition: () => boolean) {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

describe('ChangeEventConsumer (with in-memory fakes of the queue, ledger and mailer)', () => {
  it('acknowledges handled messages only, and keeps malformed, failed and concurrently claimed ones on the queue', async () => {
    const mailer = new FakeMailer();
    const source = new FakeEventSource([
      [
        message('ok', JSON.stringify(event(1))),
        message('duplicate', JSON.stringify(event(1))),
        message('bad', 'not json'),
      ],
      [
        message(
          'fails',
          JSON.stringify({
            ...event(2),
            recipients: [{ userId: 'x', email: 'x@example.com', emailVerified: true, paths: ['f'] }],
          }),
        ),
      ],
    ]);
    mailer.failing.add('x@example.com');
    const delivery = new ChangeEventDelivery({
      ledger: new FakeLedger(),
      mailer,
      clock: new FakeClock(),
      logger,
    });
    const consumer = new ChangeEventConsumer(source, delivery, logger);

    consumer.start();
    await until(() => source.receives >= 3);
    await consumer.stop();

    // The duplicate ran alongside 'ok' and found its claim in progress: it stays on the queue, to
    // be skipped on its next receive once the mail is marked sent (or sent then if 'ok' crashed).
    expect(source.acknowledged.map((m) => m.id).sort()).toEqual(['ok']);
    expect(mailer.sent).toHaveLength(1);
  });

  it('stops promptly while waiting on a long poll', async () => {
    const source = new FakeEventSource([]);
    const consumer = new ChangeEventConsumer(source, { handle: async () => 'handled' }, logger);
    consumer.start();
    await until(() => source.receives === 1);
    await consumer.stop();
    expect(source.receives).toBe(1);
  });

  it('finishes the batch in progress before stopping', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const source = new FakeEventSource([[message('slow', '{}')]]);
    const consumer = new ChangeEventConsumer(
      source,
      {
        handle: async () => {
          await gate;
          return 'handled';
        },
      },
      logger,
    );
    consumer.start();
    await until(() => source.receives === 1);
    const stopped = consumer.stop();
    release();
    await stopped;
    expect(source.acknowledged.map((m) => m.id)).toEqual(['slow']);
  });

  it('keeps polling after a failed receive', async () => {
    const source = new FakeEventSource([]);
    const receive = source.receive.bind(source);
    let failures = 1;
    source.receive = (signal) =>
      failures-- > 0 ? Promise.reject(new Error('queue unreachable')) : receive(signal);
    const consumer = new ChangeEventConsumer(source, { handle: async () => 'handled' }, logger, {
      errorBackoffMs: 1,
    });
    consumer.start();
    await until(() => failures < 0);
    await consumer.stop();
  });
});
