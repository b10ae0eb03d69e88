import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SyncFolderMissingError, type WatchEvent } from '@filesync/sync-client';
import { closeDevices, twoFolderDevices, type FolderDevice } from './support/devices';
import { readTestStack } from './support/harness';
import { tempDir, treeDigest, writeTree } from './support/trees';

// Real services and emulators. Two devices keep their folders in sync with `sync --watch` (the
// library's watch): writes, deletions and an editor's temp-file-and-rename save arrive on the
// other device; a stopped watch leaves a state the next pass resumes from; a watched folder that
// disappears ends the watch and deletes nothing (issue 8, section 3).

/** Polls `check` until it holds; generous, as CI machines are busy. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const contentOf = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

interface Watching {
  readonly events: WatchEvent[];
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

function startWatch(device: FolderDevice): Watching {
  const controller = new AbortController();
  const events: WatchEvent[] = [];
  const done = device.client.watch(device.folder, {
    signal: controller.signal,
    onEvent: (event) => events.push(event),
  });
  return {
    events,
    done,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

const passes = (watching: Watching) => watching.events.filter((event) => event.kind === 'pass').length;

describe('sync --watch on two devices', () => {
  const stack = readTestStack();
  const dirs: string[] = [];
  let laptop: FolderDevice;
  let desktop: FolderDevice;
  const watches: Watching[] = [];

  beforeAll(async () => {
    const dir = (label: string) => {
      const made = tempDir(label);
      dirs.push(made);
      return made;
    };
    ({ laptop, desktop } = await twoFolderDevices(stack.server, dir, 'watch'));
    writeTree(laptop.folder, { 'start.txt': 'before the watch' });
    await laptop.sync();
    await desktop.sync();
  });

  afterAll(async () => {
    for (const watching of watches) await watching.stop().catch(() => undefined);
    await closeDevices(...[laptop, desktop].filter(Boolean));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('writes, deletions and editor saves arrive; a stopped watch resumes; a vanished folder deletes nothing', async () => {
    const onLaptop = startWatch(laptop);
    const onDesktop = startWatch(desktop);
    watches.push(onLaptop, onDesktop);
    await waitFor('both watches to start', () =>
      [onLaptop, onDesktop].every((watching) => watching.events.some((event) => event.kind === 'watching')),
    );

    // A write on one device appears on the other, and back.
    writeFileSync(join(laptop.folder, 'notes.txt'), 'first words');
    await waitFor(
      'notes.txt on the desktop',
      () => contentOf(join(desktop.folder, 'notes.txt')) === 'first words',
    );
    writeFileSync(join(desktop.folder, 'reply.txt'), 'answered');
    await waitFor(
      'reply.txt on the laptop',
      () => contentOf(join(laptop.folder, 'reply.txt')) === 'answered',
    );

    // An editor's save: the new content goes to a temp file renamed over the original.
    writeFileSync(join(desktop.folder, '.notes.txt.swp'), 'first words, edited');
    renameSync(join(desktop.folder, '.notes.txt.swp'), join(desktop.folder, 'notes.txt'));
    await waitFor(
      'the edited notes.txt on the laptop',
      () => contentOf(join(laptop.folder, 'notes.txt')) === 'first words, edited',
    );
    await waitFor(
      'no temp file left on the laptop',
      () => !existsSync(join(laptop.folder, '.notes.txt.swp')),
    );

    // A deletion.
    rmSync(join(laptop.folder, 'reply.txt'));
    await waitFor('reply.txt gone from the desktop', () => !existsSync(join(desktop.folder, 'reply.txt')));
    await waitFor(
      'the folders agree',
      () => JSON.stringify(treeDigest(laptop.folder)) === JSON.stringify(treeDigest(desktop.folder)),
    );

    // Settled: the downloads a pass wrote start no endless passes.
    const settledPasses = passes(onDesktop) + passes(onLaptop);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(passes(onDesktop) + passes(onLaptop) - settledPasses).toBeLessThanOrEqual(1);

    const watchingStatus = await desktop.client.status();
    expect(watchingStatus.serverCheck).toMatchObject({ reachable: true, sessionValid: true });
    expect(watchingStatus.syncedFolders).toEqual([
      expect.objectContaining({
        watching: true,
        pendingLocalChanges: 0,
        lastPassOutcome: 'ok',
        lastError: '',
      }),
    ]);

    // Stopped: the laptop's next pass (here a plain sync) takes up what changed meanwhile.
    await onLaptop.stop();
    expect((await laptop.client.status({ checkServer: false })).syncedFolders[0]).toMatchObject({
      watching: false,
    });
    writeFileSync(join(laptop.folder, 'offline.txt'), 'written while not watching');
    expect((await laptop.client.status({ checkServer: false })).syncedFolders[0]).toMatchObject({
      pendingLocalChanges: 1,
    });
    expect(await laptop.sync()).toMatchObject({ filesUploaded: 1, failed: [] });
    await waitFor(
      'offline.txt on the desktop',
      () => contentOf(join(desktop.folder, 'offline.txt')) === 'written while not watching',
    );

    // The watched folder vanishes (moved away): the watch ends, and nothing is deleted anywhere.
    const movedAway = `${desktop.folder}-moved`;
    dirs.push(movedAway);
    renameSync(desktop.folder, movedAway);
    await expect(onDesktop.done).rejects.toBeInstanceOf(SyncFolderMissingError);
    const status = await desktop.client.status({ checkServer: false });
    expect(status.syncedFolders[0]).toMatchObject({ missing: true, watching: false });
    await laptop.sync();
    expect(Object.keys(treeDigest(laptop.folder)).sort()).toEqual(['notes.txt', 'offline.txt', 'start.txt']);
  });
});
