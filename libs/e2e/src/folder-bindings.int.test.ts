import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, FilesyncClient } from '@filesync/sync-client';
import { TEST_PASSWORD, uniqueEmail } from '@filesync/test-support';
import { cli, scratchFolders, type CliResult } from './support/cli';
import { readTestStack } from './support/harness';
import { treeDigest, writeTree } from './support/trees';

// Issue 8, section 6: a folder binds to a remote path of the namespace (`sync DIR --remote /A`),
// on the real stack. Two folders of one device bound to /A and /B stay independent, another
// device bound to /A gets only /A's files, a deletion in one never reaches the other, an
// incremental pass reads past journal entries outside its remote path, overlapping bindings are
// refused, and unlink then sync again loses nothing.

const stack = readTestStack();
const scratch = scratchFolders();
const dir = scratch.dir;
const clients: FilesyncClient[] = [];

afterAll(async () => {
  for (const client of clients) await client.close();
  scratch.removeAll();
});

interface Device {
  readonly client: FilesyncClient;
  cli(...args: string[]): Promise<CliResult>;
}

async function devices(label: string, names: readonly string[]): Promise<Device[]> {
  const email = uniqueEmail(label);
  const made: Device[] = [];
  for (const [index, name] of names.entries()) {
    const home = dir(`${label}-${name}-home`);
    const client = await FilesyncClient.open({ home, server: stack.server });
    clients.push(client);
    if (index === 0) await client.signup(email, TEST_PASSWORD, name);
    else await client.login(email, TEST_PASSWORD, name);
    made.push({ client, cli: (...args) => cli(['--server', stack.server, '--home', home, ...args]) });
  }
  return made;
}

const read = (folder: string, path: string) => readFileSync(join(folder, ...path.split('/')), 'utf8');

describe('folders bound to remote paths', () => {
  test('two folders of one device bound to /A and /B stay independent; another device binding /A gets only /A', async () => {
    const [laptop, desktop, tablet] = await devices('bind-ab', ['laptop', 'desktop', 'tablet']);
    const folderA = dir('bind-ab-a');
    const folderB = dir('bind-ab-b');
    // Names at the boundary: a folder named like the other binding, a sibling sharing its prefix.
    writeTree(folderA, { 'a1.txt': 'a one\n', 'sub/a2.txt': 'a two\n', 'B/inside-a.txt': 'not B\n' });
    writeTree(folderB, { 'b1.txt': 'b one\n', 'b2.txt': 'b two\n' });
    expect(await laptop!.client.sync(folderA, { remote: '/A' })).toMatchObject({ filesUploaded: 3 });
    expect(await laptop!.client.sync(folderB, { remote: 'B' })).toMatchObject({
      filesUploaded: 2,
      filesDownloaded: 0,
    });
    // Folder A's pass again: nothing of B arrives.
    expect(await laptop!.client.sync(folderA)).toMatchObject({ filesDownloaded: 0, deleted: 0 });
    expect(Object.keys(treeDigest(folderA)).sort()).toEqual(['B/inside-a.txt', 'a1.txt', 'sub/a2.txt']);

    const desktopA = dir('bind-ab-desktop-a');
    expect(await desktop!.client.sync(desktopA, { remote: '/A' })).toMatchObject({ filesDownloaded: 3 });
    expect(treeDigest(desktopA)).toEqual(treeDigest(folderA));

    // The whole namespace, as a folder bound to the root sees it: A's files are below A/.
    const tabletAll = dir('bind-ab-tablet');
    await tablet!.client.sync(tabletAll);
    expect(Object.keys(treeDigest(tabletAll)).sort()).toEqual([
      'A/B/inside-a.txt',
      'A/a1.txt',
      'A/sub/a2.txt',
      'B/b1.txt',
      'B/b2.txt',
    ]);

    // A deletion in folder A reaches the other /A folder and never folder B.
    rmSync(join(desktopA, 'a1.txt'));
    expect(await desktop!.client.sync(desktopA)).toMatchObject({ deleted: 1 });
    expect(await laptop!.client.sync(folderA)).toMatchObject({ deleted: 1 });
    expect(await laptop!.client.sync(folderB)).toMatchObject({ deleted: 0, filesDownloaded: 0 });
    expect(Object.keys(treeDigest(folderB)).sort()).toEqual(['b1.txt', 'b2.txt']);
    expect(Object.keys(treeDigest(folderA)).sort()).toEqual(['B/inside-a.txt', 'sub/a2.txt']);

    // An edit in B arrives in the root-bound folder at B/, not in A.
    writeFileSync(join(folderB, 'b1.txt'), 'b one, edited\n');
    await laptop!.client.sync(folderB);
    await tablet!.client.sync(tabletAll);
    expect(read(tabletAll, 'B/b1.txt')).toBe('b one, edited\n');
    expect(await desktop!.client.sync(desktopA)).toMatchObject({ filesDownloaded: 0, deleted: 0 });

    const status = (await laptop!.cli('status', '--json')).stdout;
    const folders = (JSON.parse(status) as { syncedFolders: { root: string; remotePath: string }[] })
      .syncedFolders;
    expect(folders.map((folder) => folder.remotePath).sort()).toEqual(['A', 'B']);
    expect((await laptop!.cli('status')).stdout).toContain(' <-> /A\n');
  });

  test('an incremental pass reads past journal entries outside its remote path; its cursor moves on', async () => {
    const [laptop, tablet] = await devices('bind-incr', ['laptop', 'tablet']);
    const photos = dir('bind-incr-photos');
    const everything = dir('bind-incr-all');
    writeTree(photos, { 'p1.jpg': 'photo 1\n' });
    await laptop!.client.sync(photos, { remote: '/Photos' });
    await tablet!.client.sync(everything);
    const before = (await laptop!.client.status()).syncedFolders.find(
      (folder) => folder.remotePath === 'Photos',
    )!;

    // Other devices' commits outside /Photos, one at a name sharing its prefix.
    writeTree(everything, { 'Photos2/x.jpg': 'not mine\n', 'Photos.txt': 'nor this\n', 'docs/d.txt': 'd\n' });
    await tablet!.client.sync(everything);
    expect(await laptop!.client.sync(photos)).toMatchObject({ filesDownloaded: 0, deleted: 0, failed: [] });
    const after = (await laptop!.client.status()).syncedFolders.find(
      (folder) => folder.remotePath === 'Photos',
    )!;
    expect(after.cursor).toBeGreaterThan(before.cursor);
    // Incremental: no full diff ran.
    expect(after.lastFullAtMs).toBe(before.lastFullAtMs);
    expect(Object.keys(treeDigest(photos))).toEqual(['p1.jpg']);

    // A change inside arrives incrementally.
    writeTree(everything, { 'Photos/p2.jpg': 'photo 2\n' });
    await tablet!.client.sync(everything);
    expect(await laptop!.client.sync(photos)).toMatchObject({ filesDownloaded: 1 });
    expect(read(photos, 'p2.jpg')).toBe('photo 2\n');
  });

  test('overlapping or changed bindings are refused with exit 2 and change nothing; a file is no remote folder', async () => {
    const [laptop, tablet] = await devices('bind-refuse', ['laptop', 'tablet']);
    const a = dir('bind-refuse-a');
    writeTree(a, { 'a.txt': 'a\n' });
    expect((await laptop!.cli('sync', a, '--remote', '/A')).code).toBe(EXIT.success);

    const again = await laptop!.cli('sync', a, '--remote', '/Other', '--json');
    expect(again.code).toBe(EXIT.usage);
    expect(again.stderr).toContain('filesync unlink');
    expect(JSON.parse(again.stdout)).toMatchObject({
      error: { code: 'folder-binding', exitCode: EXIT.usage },
    });

    const second = dir('bind-refuse-second');
    writeTree(second, { 's.txt': 's\n' });
    for (const remote of ['/A', '/A/sub', '/']) {
      const refused = await laptop!.cli('sync', second, '--remote', remote);
      expect(refused.code).toBe(EXIT.usage);
      expect(refused.stderr).toContain(`${a}`);
    }
    // Without --remote a new folder would mirror the root, which holds /A: refused too.
    expect((await laptop!.cli('sync', second)).code).toBe(EXIT.usage);
    expect((await laptop!.cli('sync', second, '--remote', '/a//b')).code).toBe(EXIT.usage);
    expect((await laptop!.client.status()).syncedFolders.map((folder) => folder.root)).toEqual([a]);

    // A folder inside a synced one, whatever its remote path: exit 2, code folder-binding.
    mkdirSync(join(a, 'inner'));
    const nested = await laptop!.cli('sync', join(a, 'inner'), '--remote', '/Z', '--json');
    expect(nested.code).toBe(EXIT.usage);
    expect(JSON.parse(nested.stdout)).toMatchObject({ error: { code: 'folder-binding' } });
    rmSync(join(a, 'inner'), { recursive: true });

    // A moved folder asked for another remote path: refused before its state moves.
    const moved = `${a}-moved`;
    renameSync(a, moved);
    const movedElsewhere = await laptop!.cli('sync', moved, '--moved-from', a, '--remote', '/Other');
    expect(movedElsewhere.code).toBe(EXIT.usage);
    expect((await laptop!.client.status()).syncedFolders.map((folder) => folder.root)).toEqual([a]);
    renameSync(moved, a);

    // A remote path that is a file on the server.
    const all = dir('bind-refuse-all');
    writeTree(all, { 'notes.txt': 'a file\n' });
    await tablet!.client.sync(all);
    const onFile = await laptop!.cli('sync', second, '--remote', '/notes.txt');
    expect(onFile.code).toBe(EXIT.error);
    expect(onFile.stderr).toContain('/notes.txt is a file');
    expect(Object.keys(treeDigest(second))).toEqual(['s.txt']);

    // A folder not made yet, asked for a remote path inside the root the tablet's folder is bound
    // to: it hears the folder is missing, with the overlap instead of advice to --create that
    // would only lead to it; with --create, the overlap, and no folder is made.
    const missing = join(dir('bind-refuse-parent'), 'new');
    const absent = await tablet!.cli('sync', missing, '--remote', '/K');
    expect(absent.code).toBe(EXIT.missingFolder);
    expect(absent.stderr).toContain(`${missing} does not exist`);
    expect(absent.stderr).toContain(`${all} is bound to /, which holds /K`);
    expect(absent.stderr).not.toContain('--create');
    const refused = await tablet!.cli('sync', missing, '--remote', '/K', '--create');
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toContain(`${all} is bound to /, which holds /K`);
    expect(refused.stderr).not.toContain('--create');
    expect(existsSync(missing)).toBe(false);
  });

  test('unlink, then sync again (a first sync) loses nothing; trash and restore take local paths of a bound folder', async () => {
    const [laptop, desktop] = await devices('bind-unlink', ['laptop', 'desktop']);
    const folder = dir('bind-unlink-laptop');
    const other = dir('bind-unlink-desktop');
    writeTree(folder, { 'keep.txt': 'keep\n', 'mine.txt': 'mine v1\n', 'gone.txt': 'gone\n' });
    await laptop!.client.sync(folder, { remote: '/Work' });
    await desktop!.client.sync(other, { remote: '/Work' });

    const unlinked = await laptop!.cli('unlink', folder);
    expect(unlinked.code).toBe(EXIT.success);
    expect(unlinked.stdout).toContain('/Work');
    expect((await laptop!.client.status()).syncedFolders).toEqual([]);
    // Changes on both sides while unlinked.
    writeFileSync(join(folder, 'mine.txt'), 'mine v2, laptop\n');
    writeFileSync(join(other, 'theirs.txt'), 'theirs\n');
    rmSync(join(folder, 'gone.txt'));
    await desktop!.client.sync(other);

    const first = await laptop!.client.sync(folder, { remote: '/Work' });
    expect(first).toMatchObject({ deleted: 0, conflicts: 1, failed: [] });
    // Nothing lost: the laptop's edit kept as a conflicted copy beside the server's version, the
    // file deleted while unlinked comes back (a first sync deletes nothing), theirs arrives.
    const names = Object.keys(treeDigest(folder)).sort();
    expect(names).toEqual(expect.arrayContaining(['gone.txt', 'keep.txt', 'mine.txt', 'theirs.txt']));
    const copy = names.find((name) => name.startsWith('mine (conflicted copy'));
    expect(copy && read(folder, copy)).toBe('mine v2, laptop\n');
    expect(read(folder, 'mine.txt')).toBe('mine v1\n');

    // Trash and restore, named by a local path of the bound folder.
    rmSync(join(folder, 'keep.txt'));
    expect(await laptop!.client.sync(folder)).toMatchObject({ deleted: 1 });
    const trash = await laptop!.cli('trash', folder, '--json');
    expect(trash.code).toBe(EXIT.success);
    expect((JSON.parse(trash.stdout) as { path: string }[]).map((item) => item.path)).toContain(
      'Work/keep.txt',
    );
    expect((await laptop!.cli('restore', join(folder, 'keep.txt'))).code).toBe(EXIT.success);
    await laptop!.client.sync(folder);
    expect(read(folder, 'keep.txt')).toBe('keep\n');
    const versions = await laptop!.cli('versions', join(folder, 'keep.txt'), '--json');
    expect(versions.code).toBe(EXIT.success);
  });
});
