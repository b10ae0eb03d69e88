// Unit tests: pure event construction.
import { buildChangeEvent } from './change-event';
import type { JournalRecord } from './model';

describe('buildChangeEvent', () => {
  it('builds the agreed event: id from the journal position, changes and resolved recipients', () => {
    const journal: JournalRecord = {
      namespaceId: 'ns-1',
      seq: 42,
      committedAtMs: 1_700_000_000_000,
      actor: { userId: 'u1', deviceId: 'd1', email: 'u1@example.com' },
      changes: [
        { path: 'docs/a', version: 2, deleted: false, size: 10, contentHash: 'x', modifiedAtMs: 1 },
        { path: 'pics/b', version: 4, deleted: true, size: 0, contentHash: '', modifiedAtMs: 2 },
      ],
    };
    const event = buildChangeEvent(journal, [
      { namespaceId: 'ns-1', path: 'docs', userId: 'u1', email: 'u1@example.com', emailVerified: true },
      { namespaceId: 'ns-1', path: 'music', userId: 'u2', email: 'u2@example.com' },
    ]);
    expect(event).toEqual({
      eventId: 'ns-1:42',
      namespaceId: 'ns-1',
      seq: 42,
      committedAtMs: 1_700_000_000_000,
      actor: { userId: 'u1', deviceId: 'd1', email: 'u1@example.com' },
      changes: [
        { path: 'docs/a', version: 2, deleted: false, size: 10 },
        { path: 'pics/b', version: 4, deleted: true, size: 0 },
      ],
      recipients: [{ userId: 'u1', email: 'u1@example.com', emailVerified: true, paths: ['docs/a'] }],
    });
    expect(JSON.parse(JSON.stringify(event))).toEqual(event);
  });
});
