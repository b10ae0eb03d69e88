import { Metadata } from '@grpc/grpc-js';
import pino from 'pino';
import { DomainError, type CallContext } from '@filesync/server-kit';
import { FakeLedger } from './domain/testing/fakes';
import { createHandlers } from './handlers';

function context(userId: string): CallContext {
  return {
    method: 'ListDeliveries',
    metadata: new Metadata(),
    signal: new AbortController().signal,
    deadline: undefined,
    logger: pino({ level: 'silent' }),
    bearerToken: 't',
    principal: async () => ({ userId, deviceId: 'd', email: `${userId}@example.com`, namespaceIds: [] }),
  };
}

describe('ListDeliveries (with an in-memory fake ledger)', () => {
  const ledger = new FakeLedger();
  for (let i = 0; i < 25; i++) {
    void ledger.record({
      eventId: `ns:${i}`,
      userId: i % 5 === 0 ? 'other' : 'me',
      email: 'me@example.com',
      subject: 's',
      paths: ['a'],
      sentAtMs: 1000 + i,
      messageId: `m${i}`,
    });
  }
  const handlers = createHandlers({ ledger });

  it("returns only the caller's deliveries, newest first, 20 by default", async () => {
    const { deliveries } = await handlers.listDeliveries({ limit: 0 }, context('me'));
    expect(deliveries).toHaveLength(20);
    expect(deliveries[0]).toEqual({
      eventId: 'ns:24',
      email: 'me@example.com',
      subject: 's',
      paths: ['a'],
      sentAtMs: 1024,
      messageId: 'm24',
    });
    expect(deliveries.every((d, i) => i === 0 || d.sentAtMs < deliveries[i - 1]!.sentAtMs)).toBe(true);
  });

  it('honours a limit', async () => {
    expect(
      (await handlers.listDeliveries({ limit: 2 }, context('other'))).deliveries.map((d) => d.eventId),
    ).toEqual(['ns:20', 'ns:15']);
  });

  it.each([-1, 101])('rejects limit %d', async (limit) => {
    await expect(handlers.listDeliveries({ limit }, context('me'))).rejects.toMatchObject({
      kind: 'invalid-argument',
    });
    await expect(handlers.listDeliveries({ limit }, context('me'))).rejects.toBeInstanceOf(DomainError);
  });
});
