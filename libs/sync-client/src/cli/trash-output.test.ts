// Unit tests of what `filesync trash`, `restore` and `versions` print for people (issue 8).
import type { VersionInfo } from '../trash/trash-client';
import { restoreLines, trashLines, versionLines, when } from './trash-output';

const T = Date.UTC(2026, 10, 30, 8, 40, 12, 345);
const DAY = 24 * 60 * 60 * 1000;

describe('filesync trash', () => {
  it('lists each deleted file with size, when and by which device, and until when it can be restored', () => {
    const lines = trashLines(
      [
        {
          path: 'docs/a.txt',
          version: 2,
          deletedAtMs: T,
          deviceId: 'd-1',
          deviceName: 'laptop',
          expiresAtMs: T + 30 * DAY,
          size: 12,
        },
      ],
      'docs',
    );
    expect(lines).toEqual([
      'docs/a.txt  12 bytes  deleted 2026-11-30T08:40:12Z by laptop  restorable until 2026-12-30T08:40:12Z',
      '1 deleted file: `filesync restore PATH` brings a file back, or every deleted file below a folder.',
    ]);
  });

  it('says when there is nothing to restore', () => {
    expect(trashLines([], '')).toEqual(['The trash is empty.']);
    expect(trashLines([], 'docs')).toEqual(['Nothing deleted at or below docs can be restored.']);
  });
});

describe('filesync restore', () => {
  it('names what came back and what was left as it is, and why', () => {
    const lines = restoreLines({
      restored: [{ path: 'docs/a.txt', fromVersion: 1, version: 3 }],
      refused: [{ path: 'docs/b.txt', fromVersion: 1, reason: 'live', message: 'docs/b.txt is a live file' }],
    });
    expect(lines).toEqual([
      'Restored 1 file (each a new version; other devices get it on their next sync):',
      '  docs/a.txt: version 1 as version 3',
      'Not restored: 1 (left as they are):',
      '  docs/b.txt: docs/b.txt is a live file',
    ]);
  });

  it('shortens a long list', () => {
    const restored = Array.from({ length: 50 }, (_, i) => ({ path: `f${i}`, fromVersion: 1, version: 3 }));
    const lines = restoreLines({ restored, refused: [] });
    expect(lines[0]).toContain('Restored 50 files');
    expect(lines).toHaveLength(22);
    expect(lines.at(-1)).toBe('  ... and 30 more (--json lists them all)');
  });
});

describe('filesync versions', () => {
  it('names the device and says until when each older version is kept', () => {
    const version = (n: number, extra: Partial<VersionInfo>): VersionInfo => ({
      namespaceId: 'ns',
      path: 'a.txt',
      version: n,
      content: { contentHash: 'h', size: 5, blockHashes: [] },
      deleted: false,
      modifiedAtMs: T,
      committedAtMs: T,
      deviceId: 'd-1',
      journalSeq: n,
      movedFrom: '',
      movedTo: '',
      deviceName: 'laptop',
      expiresAtMs: 0,
      ...extra,
    });
    expect(
      versionLines([
        version(2, { deleted: true, content: undefined, deviceName: 'desktop' }),
        version(1, { expiresAtMs: T + DAY }),
      ]),
    ).toEqual([
      'v2  2026-11-30T08:40:12Z  deleted  by desktop  current',
      'v1  2026-11-30T08:40:12Z  5 bytes  by laptop  kept until 2026-12-01T08:40:12Z',
    ]);
    expect(when(T)).toBe('2026-11-30T08:40:12Z');
  });
});
