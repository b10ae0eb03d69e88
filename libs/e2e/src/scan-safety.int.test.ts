import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import {
  FilesyncClient,
  nodeScanFileSystem,
  SyncFolderMissingError,
  type ScanFileSystem,
} from '@filesync/sync-client';
import { TEST_PASSWORD, uniqueEmail } from '@filesync/test-support';
import { cli, giveToNobody, scratchFolders } from './support/cli';
import { readTestStack } from './support/harness';
import { treeDigest, writeTree } from './support/trees';

// Real services and emulators; the device whose folder cannot be read is the real CLI, run as an
// unprivileged user when the tests run as root (root reads through chmod 000).

const stack = readTestStack();
const scratch = scratchFolders();
const dir = scratch.dir;
const clients: FilesyncClient[] = [];
/** What each device's logger reported as skipped, by device name. */
const skippedBy = new Map<string, { path: string; reason: string }[]>();

afterAll(async () => {
  for (const client of clients) await client.close();
  scratch.removeAll();
});

async function device(
  email: string,
  name: string,
  options: { signup?: boolean; scanFileSystem?: ScanFileSystem } = {},
): Promise<FilesyncClient> {
  const skipped: { path: string; reason: string }[] = [];
  skippedBy.set(name, skipped);
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        const record = JSON.parse(line) as { msg: string; path: string; reason: string };
        if (record.msg === 'path skipped') skipped.push({ path: record.path, reason: record.reason });
      },
    },
  );
  const client = await FilesyncClient.open({
    home: dir(`${name}-home`),
    server: stack.server,
    logger,
    scanFileSystem: options.scanFileSystem,
  });
  clients.push(client);
  if (options.signup) await client.signup(email, TEST_PASSWORD, name);
  else await client.login(email, TEST_PASSWORD, name);
  return client;
}

/** The latest version of a path on the server is a live file (not a tombstone). */
async function liveOnServer(client: FilesyncClient, path: string): Promise<boolean> {
  const [latest] = await client.versions(path);
  return latest !== undefined && !latest.deleted;
}

describe('kind 1: what the scan cannot see is never a deletion', () => {
  test('a synced folder that is missing stops the pass and changes nothing anywhere; --create starts afresh', async () => {
    const email = uniqueEmail('missing-root');
    const laptop = await device(email, 'laptop', { signup: true });
    const desktop = await device(email, 'desktop');
    const folders = { laptop: dir('missing-laptop'), desktop: dir('missing-desktop') };
    writeTree(folders.laptop, { 'a.txt': 'alpha\n', 'docs/b.txt': 'beta\n' });
    await laptop.sync(folders.laptop);
    await desktop.sync(folders.desktop);
    const synced = treeDigest(folders.desktop);
    expect(Object.keys(synced)).toEqual(['a.txt', 'docs/b.txt']);

    // The drive is unmounted, or the folder moved away.
    rmSync(folders.laptop, { recursive: true });
    const error = await laptop.sync(folders.laptop).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncFolderMissingError);
    expect((error as SyncFolderMissingError).syncedBefore).toMatchObject({ files: 2 });
    expect((error as Error).message).toContain('--create');
    expect(existsSync(folders.laptop)).toBe(false);

    const fromCli = await cli(['--server', stack.server, '--home', laptop.home, 'sync', folders.laptop]);
    expect(fromCli.code).toBe(5);
    expect(fromCli.stderr).toContain('is missing');
    expect(fromCli.stderr).toContain('--create');
    expect(existsSync(folders.laptop)).toBe(false);

    // Nothing was deleted on the server, so the other device keeps every file.
    const other = await desktop.sync(folders.desktop);
    expect(other.deleted).toBe(0);
    expect(treeDigest(folders.desktop)).toEqual(synced);
    expect(await liveOnServer(desktop, 'a.txt')).toBe(true);

    // A folder never synced and missing is an error too (on a device with no folder yet: on the
    // laptop, any remote path would be refused first as overlapping its folder's).
    const fresh = await device(email, 'fresh-device');
    const never = join(dir('never-parent'), 'never-synced');
    await expect(fresh.sync(never)).rejects.toMatchObject({
      name: 'SyncFolderMissingError',
      syncedBefore: undefined,
    });

    // Re-binding is an explicit choice: a new, empty folder gets everything back, nothing deleted.
    const again = await laptop.sync(folders.laptop, { create: true });
    expect(again).toMatchObject({ filesDownloaded: 2, deleted: 0, filesUploaded: 0 });
    expect(treeDigest(folders.laptop)).toEqual(synced);
    expect(await liveOnServer(desktop, 'docs/b.txt')).toBe(true);
  });

  test('a subfolder that cannot be read keeps its files on the server and on the other device', async () => {
    const email = uniqueEmail('unreadable');
    const locked = { home: dir('locked-home'), folder: dir('locked') };
    const desktopFolder = dir('unreadable-desktop');
    giveToNobody(locked.home);
    const global = ['--server', stack.server, '--home', locked.home];
    const signup = await cli([...global, 'signup', '--email', email, '--device', 'locked'], {
      unprivileged: true,
    });
    expect(signup).toMatchObject({ code: 0 });
    writeTree(locked.folder, {
      'private/secret.txt': 'secret\n',
      'private/deep/more.txt': 'more\n',
      'public/a.txt': 'public\n',
    });
    giveToNobody(locked.folder);
    expect(await cli([...global, 'sync', locked.folder], { unprivileged: true })).toMatchObject({ code: 0 });
    const desktop = await device(email, 'desktop');
    await desktop.sync(desktopFolder);
    const synced = treeDigest(desktopFolder);
    expect(Object.keys(synced)).toHaveLength(3);

    // Permission denied on `private`: several passes, and an edit of it made elsewhere meanwhile.
    chmodSync(join(locked.folder, 'private'), 0o000);
    await cli([...global, 'sync', locked.folder], { unprivileged: true });
    writeTree(desktopFolder, { 'private/secret.txt': 'secret, edited on the desktop\n' });
    expect((await desktop.sync(desktopFolder)).deleted).toBe(0);
    await cli([...global, 'sync', locked.folder], { unprivileged: true });
    expect((await desktop.sync(desktopFolder)).deleted).toBe(0);
    expect(await liveOnServer(desktop, 'private/deep/more.txt')).toBe(true);
    expect(readFileSync(join(desktopFolder, 'private', 'secret.txt'), 'utf8')).toBe(
      'secret, edited on the desktop\n',
    );
    expect(Object.keys(treeDigest(desktopFolder))).toEqual(Object.keys(synced));

    // Readable again: the edit arrives, and both devices hold the same files.
    chmodSync(join(locked.folder, 'private'), 0o755);
    expect(await cli([...global, 'sync', locked.folder], { unprivileged: true })).toMatchObject({ code: 0 });
    expect(treeDigest(locked.folder)).toEqual(treeDigest(desktopFolder));
  });

  test('a folder or a file that vanishes between the listing and its stat is not a deletion', async () => {
    const email = uniqueEmail('vanishing');
    const folders = { flaky: dir('vanishing-flaky'), desktop: dir('vanishing-desktop') };
    let vanish = false;
    const gone = (path: string) =>
      Object.assign(new Error(`ENOENT: no such file, '${path}'`), { code: 'ENOENT' });
    // Listed by its parent, then gone when the scan looks closer (deleted or moved meanwhile).
    const flakyFs: ScanFileSystem = {
      readdir: async (folder) => {
        if (vanish && folder === join(folders.flaky, 'album')) throw gone(folder);
        return nodeScanFileSystem.readdir(folder);
      },
      lstat: async (path) => {
        if (vanish && path === join(folders.flaky, 'notes.txt')) throw gone(path);
        return nodeScanFileSystem.lstat(path);
      },
    };
    const flaky = await device(email, 'flaky', { signup: true, scanFileSystem: flakyFs });
    const desktop = await device(email, 'desktop');
    writeTree(folders.flaky, {
      'album/1.txt': 'one\n',
      'album/2.txt': 'two\n',
      'notes.txt': 'notes\n',
      'other.txt': 'other\n',
    });
    await flaky.sync(folders.flaky);
    await desktop.sync(folders.desktop);
    const synced = treeDigest(folders.desktop);
    expect(Object.keys(synced)).toHaveLength(4);

    vanish = true;
    for (let pass = 0; pass < 2; pass++) expect((await flaky.sync(folders.flaky)).deleted).toBe(0);
    expect((await desktop.sync(folders.desktop)).deleted).toBe(0);
    expect(treeDigest(folders.desktop)).toEqual(synced);
    expect(await liveOnServer(desktop, 'album/2.txt')).toBe(true);
    expect(await liveOnServer(desktop, 'notes.txt')).toBe(true);
    expect(skippedBy.get('flaky')).toEqual(
      expect.arrayContaining([
        { path: 'album', reason: expect.stringContaining('disappeared') },
        { path: 'notes.txt', reason: expect.stringContaining('disappeared') },
      ]),
    );
  });
});

describe('kind 3: symlinks are never written through', () => {
  test('a folder that is a symlink on one device and a real folder on the other: nothing written outside, nothing lost', async () => {
    const email = uniqueEmail('symlink');
    const a = await device(email, 'device-a', { signup: true });
    const b = await device(email, 'device-b');
    const folders = { a: dir('symlink-a'), b: dir('symlink-b'), outside: dir('symlink-outside') };
    writeTree(folders.a, { 'docs/plan.md': '# plan\n', 'readme.txt': 'read me\n' });
    writeTree(folders.outside, { 'mine.txt': 'outside the synced folder\n' });
    symlinkSync(folders.outside, join(folders.b, 'docs'));
    const outsideBefore = treeDigest(folders.outside);

    await a.sync(folders.a);
    for (let round = 0; round < 3; round++) {
      await b.sync(folders.b);
      await a.sync(folders.a);
    }

    expect(treeDigest(folders.outside)).toEqual(outsideBefore);
    expect(lstatSync(join(folders.b, 'docs')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(folders.b, 'readme.txt'), 'utf8')).toBe('read me\n');
    expect(readFileSync(join(folders.a, 'docs', 'plan.md'), 'utf8')).toBe('# plan\n');
    expect(await liveOnServer(a, 'docs/plan.md')).toBe(true);
    // What lies behind the link is not synced either, and the link is reported.
    expect(existsSync(join(folders.a, 'docs', 'mine.txt'))).toBe(false);
    expect(skippedBy.get('device-b')).toContainEqual({
      path: 'docs',
      reason: expect.stringContaining('symbolic link'),
    });
  });
});

describe('kind 8: partial downloads', () => {
  test('a .filesync-tmp-* file left by a killed client is removed by the next pass and never uploaded', async () => {
    const email = uniqueEmail('leftover');
    const a = await device(email, 'device-a', { signup: true });
    const b = await device(email, 'device-b');
    const folders = { a: dir('leftover-a'), b: dir('leftover-b') };
    writeTree(folders.a, {
      'a.txt': 'alpha\n',
      '.filesync-tmp-0123456789abcdef': 'partial download',
      'sub/.filesync-tmp-fedcba9876543210': 'another partial download',
    });

    const summary = await a.sync(folders.a);
    expect(summary.filesUploaded).toBe(1);
    expect(readdirSync(folders.a).sort()).toEqual(['a.txt', 'sub']);
    expect(readdirSync(join(folders.a, 'sub'))).toEqual([]);

    await b.sync(folders.b);
    expect(readdirSync(folders.b)).toEqual(['a.txt']);
  });
});
