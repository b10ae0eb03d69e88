import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, FilesyncClient } from '@filesync/sync-client';
import { TEST_PASSWORD, uniqueEmail } from '@filesync/test-support';
import { cli, giveToNobody, jsonLines, scratchFolders, type CliResult } from './support/cli';
import { readTestStack } from './support/harness';
import { treeDigest, writeTree } from './support/trees';

// Issue 6 from the command line, on real services: a move is not a mass deletion (kind 2), the
// guard on the receiving device says where the deletions come from, a synced folder that is gone
// or unreadable stops with its own code and advice (kind 1), a moved folder is re-bound with its
// state, and `--json` always prints one object.

const stack = readTestStack();
const scratch = scratchFolders();
const dir = scratch.dir;
const clients: FilesyncClient[] = [];

afterAll(async () => {
  for (const client of clients) await client.close();
  scratch.removeAll();
});

interface Device {
  readonly home: string;
  readonly client: FilesyncClient;
  /** The CLI on this device's home. */
  cli(...args: string[]): Promise<CliResult>;
}

async function twoDevices(label: string): Promise<{ laptop: Device; desktop: Device }> {
  const email = uniqueEmail(label);
  const device = async (name: string): Promise<Device> => {
    const home = dir(`${label}-${name}-home`);
    const client = await FilesyncClient.open({ home, server: stack.server });
    clients.push(client);
    return { home, client, cli: (...args) => cli(['--server', stack.server, '--home', home, ...args]) };
  };
  const laptop = await device('laptop');
  const desktop = await device('desktop');
  await laptop.client.signup(email, TEST_PASSWORD, 'laptop');
  await desktop.client.login(email, TEST_PASSWORD, 'desktop');
  return { laptop, desktop };
}

const conflictedCopies = (root: string) =>
  Object.keys(treeDigest(root)).filter((path) => path.includes('conflicted copy'));

describe('kind 2: a move is not a mass deletion', () => {
  // The client's guard lets the pass through; the server's own rule excuses a deletion whose move
  // partner rides in the same CommitFiles request (being built on the server side in parallel):
  // until that lands, the laptop's pass may end with exit 4 refused by the server.
  test('renaming the folder holding every synced file converges on both devices without --force', async () => {
    const { laptop, desktop } = await twoDevices('move-all');
    const laptopFolder = dir('move-all-laptop');
    const desktopFolder = dir('move-all-desktop');
    writeTree(
      laptopFolder,
      Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`docs/f${i}.txt`, `file ${i}\n`])),
    );
    await laptop.client.sync(laptopFolder);
    await desktop.client.sync(desktopFolder);

    renameSync(join(laptopFolder, 'docs'), join(laptopFolder, 'archive'));
    const moved = await laptop.cli('sync', laptopFolder, '--json');
    expect(moved.stderr).toBe('');
    expect(moved.code).toBe(EXIT.success);
    // Committed as moves (issue 8, section 4): nothing uploaded, nothing deleted.
    expect(JSON.parse(moved.stdout)).toMatchObject({ moved: 12, filesUploaded: 0, deleted: 0, failed: [] });

    const arrived = await desktop.cli('sync', desktopFolder, '--json');
    expect(arrived.code).toBe(EXIT.success);
    expect(JSON.parse(arrived.stdout)).toMatchObject({
      moved: 12,
      filesDownloaded: 0,
      deleted: 0,
      failed: [],
    });
    expect(treeDigest(desktopFolder)).toEqual(treeDigest(laptopFolder));
    expect(Object.keys(treeDigest(desktopFolder)).every((path) => path.startsWith('archive/'))).toBe(true);
  });
});

describe('kind 2: the guard on the receiving device says the deletions came from the server', () => {
  test('human and --json reports tell deletions from another device apart, with their advice', async () => {
    const { laptop, desktop } = await twoDevices('from-server');
    const laptopFolder = dir('from-server-laptop');
    const desktopFolder = dir('from-server-desktop');
    writeTree(laptopFolder, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
    await laptop.client.sync(laptopFolder);
    await desktop.client.sync(desktopFolder);
    for (const name of ['a.txt', 'b.txt', 'c.txt']) rmSync(join(laptopFolder, name));
    await laptop.client.sync(laptopFolder, { force: true });

    const stopped = await desktop.cli('sync', desktopFolder);
    expect(stopped.code).toBe(EXIT.massDelete);
    expect(stopped.stderr).toContain('3 were deleted on the server, by another device (a.txt, b.txt, c.txt)');
    expect(stopped.stderr).toContain('--force to delete them here too');
    expect(stopped.stderr).toContain('run `filesync unlink` on this folder and then sync it again');
    expect(stopped.stderr).not.toContain('if the folder was moved');

    const json = await desktop.cli('sync', desktopFolder, '--json');
    expect(json.code).toBe(EXIT.massDelete);
    const objects = jsonLines(json.stdout);
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({
      stopped: 'mass-delete',
      wouldDelete: { local: [], remote: ['a.txt', 'b.txt', 'c.txt'] },
      live: 3,
      refusedByServer: false,
      error: { code: 'mass-delete', exitCode: EXIT.massDelete },
      deleted: 0,
      failed: [],
    });
    expect(Object.keys(treeDigest(desktopFolder)).sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);

    // The advice works: forgetting the folder and syncing it again brings the files back everywhere.
    expect((await desktop.cli('forget', desktopFolder)).code).toBe(EXIT.success);
    expect((await desktop.cli('sync', desktopFolder)).code).toBe(EXIT.success);
    await laptop.client.sync(laptopFolder);
    expect(treeDigest(laptopFolder)).toEqual(treeDigest(desktopFolder));
    expect(Object.keys(treeDigest(laptopFolder)).sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);
  });
});

describe('kind 1: a synced folder that is gone or unreadable stops with its own code and advice', () => {
  test('a folder replaced by a file exits 5 like a missing one; every --json error prints one object', async () => {
    const { laptop } = await twoDevices('exit-codes');
    const parent = dir('exit-codes');
    const folder = join(parent, 'A');
    writeTree(folder, { 'a.txt': 'a\n' });
    await laptop.client.sync(folder);

    renameSync(folder, join(parent, 'A.moved'));
    const missing = await laptop.cli('sync', folder, '--json');
    expect(missing.code).toBe(EXIT.missingFolder);
    expect(missing.stderr).toContain(`--moved-from ${folder}`);
    expect(jsonLines(missing.stdout)).toEqual([
      { error: { code: 'missing-folder', message: expect.stringContaining('is missing'), exitCode: 5 } },
    ]);

    writeFileSync(folder, 'x\n');
    const replaced = await laptop.cli('sync', folder);
    expect(replaced.code).toBe(EXIT.missingFolder);
    expect(replaced.stderr).toContain('is not a folder (a file is in its place), but it was synced before');
    expect(replaced.stderr).toContain(`--moved-from ${folder}`);
    expect(readFileSync(folder, 'utf8')).toBe('x\n');

    const badServer = await cli(['--server', 'bad host:x', '--home', laptop.home, 'sync', folder, '--json']);
    expect(badServer.code).toBe(EXIT.usage);
    expect(jsonLines(badServer.stdout)).toEqual([
      { error: { code: 'invalid-server', message: expect.any(String), exitCode: 2 } },
    ]);
    const badCount = await laptop.cli('sync', folder, '--max-delete', 'abc', '--json');
    expect(badCount.code).toBe(EXIT.usage);
    expect(jsonLines(badCount.stdout)).toEqual([
      { error: { code: 'usage', message: expect.stringContaining('whole number'), exitCode: 2 } },
    ]);
    const signedOut = await cli([
      '--server',
      stack.server,
      '--home',
      dir('nobody-home'),
      'sync',
      parent,
      '--json',
    ]);
    expect(signedOut.code).toBe(EXIT.authRequired);
    expect(jsonLines(signedOut.stdout)).toEqual([
      { error: { code: 'auth-required', message: expect.stringContaining('filesync login'), exitCode: 6 } },
    ]);
  });

  test('a synced folder this user cannot read says so and what to check', async () => {
    const home = dir('unreadable-root-home');
    const parent = dir('unreadable-root');
    const folder = join(parent, 'A');
    writeTree(folder, { 'a.txt': 'a\n' });
    giveToNobody(home);
    giveToNobody(parent);
    const global = ['--server', stack.server, '--home', home];
    const email = uniqueEmail('unreadable-root');
    expect(await cli([...global, 'signup', '--email', email], { unprivileged: true })).toMatchObject({
      code: 0,
    });
    expect(await cli([...global, 'sync', folder], { unprivileged: true })).toMatchObject({ code: 0 });

    chmodSync(folder, 0o000);
    const denied = await cli([...global, 'sync', folder, '--json'], { unprivileged: true });
    expect(denied.code).toBe(EXIT.error);
    expect(denied.stderr).toContain(`the synced folder ${folder} itself cannot be read (EACCES)`);
    expect(denied.stderr).toContain(`ls -ld ${folder}`);
    expect(jsonLines(denied.stdout)).toEqual([
      { error: { code: 'unreadable-folder', message: expect.any(String), exitCode: 1 } },
    ]);
  });
});

describe('kind 1: a moved synced folder is re-bound with its state, or forgotten', () => {
  test('sync A2 --moved-from A carries the state over: both edits everywhere, no conflicted copies', async () => {
    const { laptop, desktop } = await twoDevices('moved-from');
    const parent = dir('moved-from');
    const folder = join(parent, 'A');
    const desktopFolder = dir('moved-from-desktop');
    writeTree(folder, { 'mine.txt': 'v1\n', 'theirs.txt': 'v1\n', 'same.txt': 'same\n' });
    await laptop.client.sync(folder);
    await desktop.client.sync(desktopFolder);

    const moved = join(parent, 'A2');
    renameSync(folder, moved);
    writeTree(moved, { 'mine.txt': 'edited on the laptop after the move\n' });
    writeTree(desktopFolder, { 'theirs.txt': 'edited on the desktop\n' });
    await desktop.client.sync(desktopFolder);

    const rebound = await laptop.cli('sync', moved, '--moved-from', folder, '--json');
    expect(rebound.stderr).toBe('');
    expect(rebound.code).toBe(EXIT.success);
    expect(JSON.parse(rebound.stdout)).toMatchObject({
      filesUploaded: 1,
      filesDownloaded: 1,
      conflicts: 0,
      deleted: 0,
    });
    await desktop.client.sync(desktopFolder);
    for (const root of [moved, desktopFolder]) {
      expect(readFileSync(join(root, 'mine.txt'), 'utf8')).toBe('edited on the laptop after the move\n');
      expect(readFileSync(join(root, 'theirs.txt'), 'utf8')).toBe('edited on the desktop\n');
      expect(conflictedCopies(root)).toEqual([]);
    }
    expect(treeDigest(moved)).toEqual(treeDigest(desktopFolder));
    const status = JSON.parse((await laptop.cli('status', '--json')).stdout) as {
      syncedFolders: { root: string }[];
    };
    expect(status.syncedFolders.map((synced) => synced.root)).toEqual([moved]);

    // A second --moved-from is refused (A is no longer known), and changes nothing.
    expect((await laptop.cli('sync', moved, '--moved-from', folder)).code).toBe(EXIT.usage);

    // Forgotten for good: status stops listing it, the files stay.
    rmSync(moved, { recursive: true });
    const forgotten = await laptop.cli('forget', moved);
    expect(forgotten).toMatchObject({ code: 0 });
    const after = JSON.parse((await laptop.cli('status', '--json')).stdout) as { syncedFolders: unknown[] };
    expect(after.syncedFolders).toEqual([]);
    expect(Object.keys(treeDigest(desktopFolder)).sort()).toEqual(['mine.txt', 'same.txt', 'theirs.txt']);
  });
});
