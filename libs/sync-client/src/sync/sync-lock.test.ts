import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireSyncLock, SyncBusyError } from './sync-lock';

describe('acquireSyncLock', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'lock-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lets one sync in at a time', async () => {
    const release = await acquireSyncLock(home);
    await expect(acquireSyncLock(home)).rejects.toThrow(SyncBusyError);
    await release();
    await (
      await acquireSyncLock(home)
    )();
  });

  it('takes over a lock whose owner is gone', async () => {
    // Pids are below 2^22 on Linux: this one cannot be running.
    await writeFile(join(home, 'sync.lock'), '99999999');
    await (
      await acquireSyncLock(home)
    )();
  });
});
