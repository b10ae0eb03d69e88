import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDb, type FileState } from '../state/state-db';
import { countLocalChanges, eventsSettled } from './local-changes';

describe('local changes against the synced base', () => {
  let root: string;
  let state: StateDb;
  /** Records `path` as synced exactly as it is on disk now (what a pass that wrote it records). */
  const synced = (path: string, extra: Partial<FileState> = {}) => {
    const stats = statSync(join(root, path));
    state.put(root, {
      path,
      baseVersion: 1,
      baseContentHash: 'h',
      contentHash: 'h',
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      blocks: [],
      ...extra,
    });
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'local-changes-'));
    state = StateDb.open(':memory:');
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'a.txt'), 'a');
    writeFileSync(join(root, 'b.txt'), 'b');
    synced('docs/a.txt');
    synced('b.txt');
  });
  afterEach(() => {
    state.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("takes the events of a pass's own writes and deletions for settled", async () => {
    expect(
      await eventsSettled(root, ['docs/a.txt', 'b.txt', 'docs', 'never-synced-and-gone.txt'], state),
    ).toBe(true);
  });

  it('takes an edit, a new file, a deleted file or a deleted folder for a change', async () => {
    writeFileSync(join(root, 'b.txt'), 'bb');
    expect(await eventsSettled(root, ['b.txt'], state)).toBe(false);
    writeFileSync(join(root, 'new.txt'), 'n');
    expect(await eventsSettled(root, ['new.txt'], state)).toBe(false);
    rmSync(join(root, 'docs'), { recursive: true });
    expect(await eventsSettled(root, ['docs/a.txt'], state)).toBe(false);
    expect(await eventsSettled(root, ['docs'], state)).toBe(false);
  });

  it('counts new, edited and deleted files, honouring .filesyncignore, reading nothing', async () => {
    expect(await countLocalChanges(root, state)).toBe(0);
    writeFileSync(join(root, 'b.txt'), 'edited');
    writeFileSync(join(root, 'docs', 'new.txt'), 'new');
    rmSync(join(root, 'docs', 'a.txt'));
    writeFileSync(join(root, '.filesyncignore'), '*.log\n');
    synced('.filesyncignore');
    writeFileSync(join(root, 'ignored.log'), 'x');
    expect(await countLocalChanges(root, state)).toBe(3);
    // Hashed by a scan but not committed yet: still a change.
    synced('b.txt', { contentHash: 'other' });
    expect(await countLocalChanges(root, state)).toBe(3);
  });
});
