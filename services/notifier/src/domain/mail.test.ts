import type { ChangeEvent } from './change-event';
import { composeMail, formatBytes } from './mail';

const event: ChangeEvent = {
  eventId: 'ns:3',
  namespaceId: 'ns',
  seq: 3,
  committedAtMs: Date.UTC(2026, 0, 2, 3, 4, 5),
  actor: { userId: 'a', deviceId: 'd', email: 'ada@example.com' },
  changes: [
    { path: 'new.txt', version: 1, deleted: false, size: 10 },
    { path: 'old.txt', version: 4, deleted: true, size: 0 },
    { path: 'big.bin', version: 2, deleted: false, size: 52_428_800 },
  ],
  recipients: [],
};

describe('composeMail', () => {
  it('names each followed path, what happened to it and who changed it', () => {
    const mail = composeMail(event, {
      userId: 'u',
      email: 'u@example.com',
      paths: ['new.txt', 'old.txt', 'big.bin'],
    });
    expect(mail.subject).toBe('filesync: 3 changes in your followed folders');
    expect(mail.text).toContain('ada@example.com changed 3 files you follow');
    expect(mail.text).toContain('added    new.txt (version 1, 10 B)');
    expect(mail.text).toContain('deleted  old.txt');
    expect(mail.text).toContain('updated  big.bin (version 2, 50.0 MiB)');
    expect(mail.text).toContain('2026-01-02T03:04:05.000Z');
  });

  it('tells a move once, old path and new, to followers of either path or both', () => {
    const moved: ChangeEvent = {
      ...event,
      changes: [
        { path: 'docs/a.txt', version: 3, deleted: true, size: 0, movedTo: 'archive/a.txt' },
        { path: 'archive/a.txt', version: 1, deleted: false, size: 10, movedFrom: 'docs/a.txt' },
      ],
    };
    const to = (paths: string[]) => composeMail(moved, { userId: 'u', email: 'u@example.com', paths });
    for (const paths of [['docs/a.txt'], ['archive/a.txt'], ['docs/a.txt', 'archive/a.txt']]) {
      const mail = to(paths);
      expect(mail.subject).toBe('filesync: 1 change in your followed folders');
      expect(mail.text).toContain('ada@example.com changed a file you follow');
      expect(mail.text.match(/moved {4}docs\/a\.txt -> archive\/a\.txt/g)).toHaveLength(1);
      expect(mail.text).not.toContain('deleted');
      expect(mail.text).not.toContain('added');
    }
  });

  it('uses the singular for one change', () => {
    expect(composeMail(event, { userId: 'u', email: 'u@example.com', paths: ['new.txt'] }).subject).toBe(
      'filesync: 1 change in your followed folders',
    );
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
  ])('%d bytes is %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});
