import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FilesyncClient } from '@filesync/sync-client';
import { TEST_PASSWORD, uniqueEmail } from '@filesync/test-support';
import { readTestStack } from './support/harness';
import { mixedFolder, sha256, tempDir, treeDigest, writeTree } from './support/trees';

// Real services and emulators: calls take seconds, not the unit tier's milliseconds.

// One account, two devices (two FILESYNC_HOMEs), each with its own copy of the folder. The steps
// build on each other, so they run in order within this file.
describe('two devices of one account', () => {
  const stack = readTestStack();
  const email = uniqueEmail('two-devices');
  const bigBytes = 50 * 1024 * 1024;
  const dirs = { laptop: tempDir('laptop'), desktop: tempDir('desktop') };
  const homes = { laptop: tempDir('laptop-home'), desktop: tempDir('desktop-home') };
  let laptop: FilesyncClient;
  let desktop: FilesyncClient;

  beforeAll(async () => {
    laptop = await FilesyncClient.open({ home: homes.laptop, server: stack.server });
    desktop = await FilesyncClient.open({ home: homes.desktop, server: stack.server });
    await laptop.signup(email, TEST_PASSWORD, 'laptop');
    await desktop.login(email, TEST_PASSWORD, 'desktop');
  });

  afterAll(async () => {
    await laptop?.close();
    await desktop?.close();
    for (const dir of [...Object.values(dirs), ...Object.values(homes)])
      rmSync(dir, { recursive: true, force: true });
  });

  test('a folder synced from one device arrives byte-identical on the other', async () => {
    const files = mixedFolder(bigBytes);
    writeTree(dirs.laptop, files);

    const up = await laptop.sync(dirs.laptop);
    expect(up.filesUploaded).toBe(Object.keys(files).length);
    expect(up.uploadedBytes).toBeGreaterThanOrEqual(bigBytes);
    expect(up.conflicts).toBe(0);

    const down = await desktop.sync(dirs.desktop);
    expect(down.filesDownloaded).toBe(Object.keys(files).length);
    expect(down.downloadedBytes).toBeGreaterThanOrEqual(bigBytes);
    expect(treeDigest(dirs.desktop)).toEqual(treeDigest(dirs.laptop));
    expect(readFileSync(join(dirs.desktop, 'empty.txt')).length).toBe(0);
    expect(readFileSync(join(dirs.desktop, '日本語', 'ファイル.txt'), 'utf8')).toBe('こんにちは\n');

    // Nothing changed anywhere: a second pass moves nothing.
    const idle = await laptop.sync(dirs.laptop);
    expect(idle.uploadedBytes + idle.downloadedBytes + idle.filesUploaded + idle.filesDownloaded).toBe(0);
  });

  test('an edit on the second device comes back to the first', async () => {
    writeTree(dirs.desktop, { 'docs/plan.md': '# plan\n\n- sync\n- share\n- edited on the desktop\n' });
    const up = await desktop.sync(dirs.desktop);
    expect(up.filesUploaded).toBe(1);

    const down = await laptop.sync(dirs.laptop);
    expect(down.filesDownloaded).toBe(1);
    expect(readFileSync(join(dirs.laptop, 'docs', 'plan.md'), 'utf8')).toContain('edited on the desktop');
    expect(treeDigest(dirs.laptop)).toEqual(treeDigest(dirs.desktop));
  });

  test('changing one byte of the big file uploads only the blocks around it', async () => {
    const file = join(dirs.laptop, 'big', 'random.bin');
    const bytes = readFileSync(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);

    const up = await laptop.sync(dirs.laptop);
    expect(up.filesUploaded).toBe(1);
    expect(up.uploadedBytes).toBeGreaterThan(0);
    expect(up.uploadedBytes).toBeLessThan(10 * 1024 * 1024);

    await desktop.sync(dirs.desktop);
    expect(sha256(readFileSync(join(dirs.desktop, 'big', 'random.bin')))).toBe(sha256(bytes));
  });

  test('concurrent edits of one file keep both contents on both devices', async () => {
    const laptopText = `laptop version ${randomBytes(4).toString('hex')}\n`;
    const desktopText = `desktop version ${randomBytes(4).toString('hex')}\n`;
    writeTree(dirs.laptop, { 'docs/reports/2026/q1.csv': laptopText });
    writeTree(dirs.desktop, { 'docs/reports/2026/q1.csv': desktopText });

    await laptop.sync(dirs.laptop);
    const clash = await desktop.sync(dirs.desktop);
    expect(clash.conflicts).toBe(1);

    // The conflicted copy is a new file on the desktop: it travels like any other.
    for (let round = 0; round < 3 && !sameTree(dirs.laptop, dirs.desktop); round++) {
      await desktop.sync(dirs.desktop);
      await laptop.sync(dirs.laptop);
    }
    expect(treeDigest(dirs.laptop)).toEqual(treeDigest(dirs.desktop));
    for (const dir of Object.values(dirs)) {
      const folder = join(dir, 'docs', 'reports', '2026');
      const contents = readdirSync(folder)
        .filter((name) => name.startsWith('q1'))
        .map((name) => readFileSync(join(folder, name), 'utf8'));
      expect(contents).toHaveLength(2);
      expect(contents).toEqual(expect.arrayContaining([laptopText, desktopText]));
    }
  });

  test('an edit that put the old mtime back (touch -r, cp -p) is kept when the other device edits the file too', async () => {
    writeTree(dirs.laptop, { 'docs/kept.txt': 'original text A' });
    await laptop.sync(dirs.laptop);
    await desktop.sync(dirs.desktop);
    const onDesktop = join(dirs.desktop, 'docs', 'kept.txt');
    const before = lstatSync(onDesktop);
    // Same size, other bytes, the old mtime put back: only the ctime tells. It ticks coarsely,
    // so the edit is repeated until it shows, as any later edit would.
    for (;;) {
      writeFileSync(onDesktop, 'desktop edit!!!');
      utimesSync(onDesktop, before.atime, before.mtime);
      const after = lstatSync(onDesktop);
      expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
      if (after.ctimeMs !== before.ctimeMs) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    writeTree(dirs.laptop, { 'docs/kept.txt': 'laptop edit, longer' });
    await laptop.sync(dirs.laptop);

    const clash = await desktop.sync(dirs.desktop);
    expect(clash.conflicts).toBe(1);
    const contents = readdirSync(join(dirs.desktop, 'docs'))
      .filter((name) => name.startsWith('kept'))
      .map((name) => readFileSync(join(dirs.desktop, 'docs', name), 'utf8'));
    expect(contents.sort()).toEqual(['desktop edit!!!', 'laptop edit, longer']);
    for (let round = 0; round < 3 && !sameTree(dirs.laptop, dirs.desktop); round++) {
      await desktop.sync(dirs.desktop);
      await laptop.sync(dirs.laptop);
    }
    expect(treeDigest(dirs.laptop)).toEqual(treeDigest(dirs.desktop));
  });

  test('a delete on one device removes the file on the other', async () => {
    rmSync(join(dirs.laptop, 'many', 'file-03.txt'));
    await laptop.sync(dirs.laptop);

    const down = await desktop.sync(dirs.desktop);
    expect(down.deleted).toBe(1);
    expect(readdirSync(join(dirs.desktop, 'many'))).not.toContain('file-03.txt');
    expect(treeDigest(dirs.desktop)).toEqual(treeDigest(dirs.laptop));

    const versions = await laptop.versions('many/file-03.txt');
    expect(versions.length).toBeGreaterThanOrEqual(2);
  });
});

function sameTree(a: string, b: string): boolean {
  return JSON.stringify(treeDigest(a)) === JSON.stringify(treeDigest(b));
}
