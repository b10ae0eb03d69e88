import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRootOf } from '@filesync/test-support/runner';
import { cli } from './support/cli';
import { FilesyncClient, SyncFolderMissingError, type WatchEvent } from '@filesync/sync-client';
import { TEST_PASSWORD } from '@filesync/test-support';
import { CuttableProxy } from './support/cuttable-proxy';
import { closeDevices, twoFolderDevices, type FolderDevice } from './support/devices';
import { readTestStack, TEST_PORTS } from './support/harness';
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

describe('sync --watch through a network outage', () => {
  const stack = readTestStack();
  const dirs: string[] = [];
  // Ports of this tier's offset that the stack leaves free (it takes basePort to basePort + 3).
  const proxy = new CuttableProxy(TEST_PORTS.basePort + 20, TEST_PORTS.basePort, 4);
  let laptop: FolderDevice;
  let desktop: FolderDevice;
  let watching: Watching | undefined;

  beforeAll(async () => {
    await proxy.open();
    const dir = (label: string) => {
      const made = tempDir(label);
      dirs.push(made);
      return made;
    };
    let email: string;
    let unused: FolderDevice;
    ({ laptop, desktop: unused, email } = await twoFolderDevices(stack.server, dir, 'outage'));
    await unused.client.close();
    // The desktop reaches the services only through the proxy.
    const home = dir('outage-desktop-home');
    const folder = dir('outage-desktop');
    const client = await FilesyncClient.open({ home, server: proxy.server });
    await client.login(email, TEST_PASSWORD, 'desktop-2');
    desktop = { client, home, folder, sync: () => client.sync(folder) };
  });

  afterAll(async () => {
    await watching?.stop().catch(() => undefined);
    await proxy.cut();
    await closeDevices(...[laptop, desktop].filter(Boolean));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('a watching device that loses the server reconnects and catches up from its cursor', async () => {
    writeTree(laptop.folder, { 'before.txt': 'before the outage' });
    await laptop.sync();
    await desktop.sync();
    watching = startWatch(desktop);
    const events = watching.events;
    await waitFor('the first pass', () => events.some((event) => event.kind === 'pass'));

    await proxy.cut();
    writeTree(laptop.folder, { 'during.txt': 'committed while the desktop was cut off' });
    await laptop.sync();
    await waitFor('the desktop to notice', () =>
      events.some((event) => event.kind === 'server' && !event.connected),
    );
    expect(existsSync(join(desktop.folder, 'during.txt'))).toBe(false);

    await proxy.open();
    await waitFor(
      'during.txt on the desktop after the outage',
      () => contentOf(join(desktop.folder, 'during.txt')) === 'committed while the desktop was cut off',
    );
    writeFileSync(join(laptop.folder, 'after.txt'), 'after');
    await laptop.sync();
    await waitFor('after.txt on the desktop', () => contentOf(join(desktop.folder, 'after.txt')) === 'after');
    const { syncedFolders } = await desktop.client.status();
    expect(syncedFolders[0]).toMatchObject({ watching: true, lastPassOutcome: 'ok', pendingLocalChanges: 0 });
  });
});

describe('filesync sync DIR --watch, the command', () => {
  const stack = readTestStack();
  const dirs: string[] = [];
  let laptop: FolderDevice;
  let desktop: FolderDevice;

  beforeAll(async () => {
    const dir = (label: string) => {
      const made = tempDir(label);
      dirs.push(made);
      return made;
    };
    ({ laptop, desktop } = await twoFolderDevices(stack.server, dir, 'watch-cli'));
    writeTree(laptop.folder, { 'a.txt': 'a' });
    await laptop.sync();
  });

  afterAll(async () => {
    await closeDevices(...[laptop, desktop].filter(Boolean));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test.each(['SIGTERM', 'SIGINT'] as const)(
    'prints one JSON line per event and stops cleanly on %s (exit 0)',
    async (signal) => {
      const args = [
        '--server',
        stack.server,
        '--home',
        desktop.home,
        'sync',
        desktop.folder,
        '--watch',
        '--json',
      ];
      const child = spawn(join(repoRootOf(), 'node_modules/.bin/filesync'), args, {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const events = () =>
        stdout
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as { event: string; summary?: { filesDownloaded: number } });
      await waitFor('the first pass', () => events().some((event) => event.event === 'pass'));
      expect(contentOf(join(desktop.folder, 'a.txt'))).toBe('a');
      const status = await cli(['--server', stack.server, '--home', desktop.home, 'status', '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({
        serverCheck: { reachable: true, sessionValid: true },
        syncedFolders: [{ root: expect.any(String), watching: true }],
      });

      child.kill(signal);
      expect(await exited).toBe(0);
      expect(events().at(-1)).toEqual({ event: 'stopped' });
      expect(events()[0]).toEqual({ event: 'watching' });
      const after = await cli([
        '--server',
        stack.server,
        '--home',
        desktop.home,
        'status',
        '--json',
        '--offline',
      ]);
      expect(JSON.parse(after.stdout)).toMatchObject({ syncedFolders: [{ watching: false }] });
      expect(JSON.parse(after.stdout).serverCheck).toBeUndefined();
    },
  );
});
