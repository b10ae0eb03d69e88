// Unit tests with in-memory fakes of the Outbox and EventQueue ports (no DynamoDB, no SQS).
import { OutboxRelay, queueBatches, type EventQueue, type Outbox, type OutboxMessage } from './outbox-relay';

class FakeOutbox implements Outbox {
  readonly items = new Map<string, string>();
  readonly removed: string[][] = [];
  add(count: number, body = '{}') {
    for (let index = 0; index < count; index += 1) this.items.set(`EVENT#ns:${this.items.size + 1}`, body);
  }
  async pending(limit: number): Promise<OutboxMessage[]> {
    return [...this.items].slice(0, limit).map(([id, body]) => ({ id, body }));
  }
  async remove(ids: readonly string[]) {
    this.removed.push([...ids]);
    for (const id of ids) this.items.delete(id);
  }
}

class FakeQueue implements EventQueue {
  readonly sent: OutboxMessage[][] = [];
  refuse = new Set<string>();
  failCalls = 0;
  async publish(messages: readonly OutboxMessage[]) {
    if (this.failCalls > 0) {
      this.failCalls -= 1;
      throw new Error('queue unavailable');
    }
    this.sent.push([...messages]);
    const accepted = messages.filter((m) => !this.refuse.has(m.id)).map((m) => m.id);
    const failed = messages
      .filter((m) => this.refuse.has(m.id))
      .map((m) => ({ id: m.id, reason: 'refused' }));
    return { accepted, failed };
  }
}

const quietLogger = { warn: jest.fn(), error: jest.fn(), debug: jest.fn() };

describe('OutboxRelay', () => {
  it('sends in batches of at most 10 and removes what the queue accepted', async () => {
    const outbox = new FakeOutbox();
    const queue = new FakeQueue();
    outbox.add(23);
    const result = await new OutboxRelay(outbox, queue, quietLogger).round();

    expect(queue.sent.map((batch) => batch.length)).toEqual([10, 10, 3]);
    expect(result).toEqual({ taken: 23, removed: 23 });
    expect(outbox.items.size).toBe(0);
  });

  it('keeps the entries the queue refused for the next round', async () => {
    const outbox = new FakeOutbox();
    const queue = new FakeQueue();
    outbox.add(3);
    queue.refuse.add('EVENT#ns:2');
    const relay = new OutboxRelay(outbox, queue, quietLogger);
    await relay.round();

    expect(outbox.removed).toEqual([['EVENT#ns:1', 'EVENT#ns:3']]);
    expect([...outbox.items.keys()]).toEqual(['EVENT#ns:2']);

    queue.refuse.clear();
    await relay.round();
    expect(outbox.items.size).toBe(0);
  });

  it('removes nothing of a batch whose send failed, and carries on with the next batch', async () => {
    const outbox = new FakeOutbox();
    const queue = new FakeQueue();
    outbox.add(12);
    queue.failCalls = 1;
    expect(await new OutboxRelay(outbox, queue, quietLogger).round()).toEqual({ taken: 12, removed: 2 });
    expect(outbox.items.size).toBe(10);
  });

  it('drains on a kick and stops cleanly', async () => {
    const outbox = new FakeOutbox();
    const queue = new FakeQueue();
    outbox.add(250);
    const relay = new OutboxRelay(outbox, queue, quietLogger, { intervalMs: 60_000, roundSize: 100 });
    relay.kick();
    relay.kick();
    await relay.whenIdle();
    expect(outbox.items.size).toBe(0);
    await relay.stop();
    relay.kick();
    expect(queue.sent).toHaveLength(25);
    const sentIds = queue.sent.flat().map((message) => message.id);
    expect(new Set(sentIds).size).toBe(250);
  });
});

describe('queueBatches', () => {
  it('keeps each batch under the queue size limit', () => {
    const big = 'x'.repeat(100 * 1024);
    const messages = Array.from({ length: 5 }, (_, index) => ({ id: String(index), body: big }));
    expect(queueBatches(messages).map((batch) => batch.length)).toEqual([2, 2, 1]);
  });
});
