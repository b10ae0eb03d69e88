import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, sep } from 'node:path';
import { FilesyncClient, type SyncSummary } from '@filesync/sync-client';
import { TEST_PASSWORD, uniqueEmail } from '@filesync/test-support';
import { cli, giveToNobody, scratchFolders } from './support/cli';
import { closeDevices as close, twoFolderDevices } from './support/devices';
import { readTestStack } from './support/harness';
import { sha256, writeTree } from './support/trees';

// Client faults a reviewer found replaying issue 6 from the CLI: names that only look like ours,
// paths at the length limits, undecodable names, unreadable and private files. Two real devices
// (two FILESYNC_HOMEs) against the real services.

const stack = readTestStack();
const scratch = scratchFolders();
const dir = scratch.dir;

afterAll(() => scratch.removeAll());

/** One account with two devices; their folders' absolute paths have the same length. */
const twoDevices = (label: string) => twoFolderDevices(stack.server, dir, label, ['lap', 'dsk']);

/** Every regular file below `root`, dot-files included, as relative path => SHA-256. */
function allFiles(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files[relative(root, full).split(sep).join('/')] = sha256(readFileSync(full));
    }
  };
  walk(root);
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('kind 8: only our own temp files are partial downloads', () => {
  test("a user's .filesync-tmp-* files and folder sync both ways; a real leftover of ours is removed", async () => {
    const { laptop, desktop } = await twoDevices('tmp-names');
    try {
      const users = {
        '.filesync-tmp-mine': 'precious\n',
        '.filesync-tmp-': 'just the prefix\n',
        'd/.filesync-tmp-0123456789abcde': 'fifteen hex digits\n',
        'd/.filesync-tmp-0123456789ABCDEF': 'upper-case hex\n',
        '.filesync-tmp-project/plan.md': '# a folder of the user\n',
      };
      writeTree(laptop.folder, { ...users, 'd/.filesync-tmp-0123456789abcdef': 'partial download' });

      expect(await laptop.sync()).toMatchObject({ filesUploaded: 5, skipped: [], failed: [] });
      expect(existsSync(join(laptop.folder, 'd', '.filesync-tmp-0123456789abcdef'))).toBe(false);
      await desktop.sync();
      expect(allFiles(desktop.folder)).toEqual(allFiles(laptop.folder));
      expect(Object.keys(allFiles(desktop.folder)).sort()).toEqual(Object.keys(users).sort());

      writeTree(desktop.folder, { '.filesync-tmp-mine': 'precious, edited on the desktop\n' });
      expect(await desktop.sync()).toMatchObject({ filesUploaded: 1 });
      await laptop.sync();
      expect(readFileSync(join(laptop.folder, '.filesync-tmp-mine'), 'utf8')).toBe(
        'precious, edited on the desktop\n',
      );
    } finally {
      await close(laptop, desktop);
    }
  });
});

describe('kind 5: conflicted copies fit the path limits', () => {
  test('a 4,075-byte path edited on both devices converges in one pass, both contents kept', async () => {
    const { laptop, desktop } = await twoDevices('long-path');
    try {
      const name = `${'n'.repeat(40)}.txt`;
      const folders = Array.from({ length: 30 }, (_, i) => `${i}`.padEnd(200, 'f'));
      // Deep enough that the file's absolute path is 4,075 bytes on both devices.
      let depth = 0;
      let used = Buffer.byteLength(laptop.folder) + 1 + name.length;
      while (used + 201 <= 4075) used += folders[depth++]!.length + 1;
      const last = 'x'.repeat(4075 - used - 1);
      const path = [...folders.slice(0, depth), last, name].join('/');
      expect(Buffer.byteLength(join(laptop.folder, path))).toBe(4075);
      expect(Buffer.byteLength(join(desktop.folder, path))).toBe(4075);

      writeTree(laptop.folder, { [path]: 'original\n' });
      await laptop.sync();
      await desktop.sync();
      writeTree(laptop.folder, { [path]: 'laptop edit\n' });
      writeTree(desktop.folder, { [path]: 'desktop edit, a different length\n' });
      await laptop.sync();

      const pass = await desktop.sync();
      expect(pass).toMatchObject({ conflicts: 1, failed: [], skipped: [] });
      await laptop.sync();
      const files = allFiles(desktop.folder);
      expect(allFiles(laptop.folder)).toEqual(files);
      expect(Object.values(files).sort()).toEqual(
        [sha256('laptop edit\n'), sha256('desktop edit, a different length\n')].sort(),
      );
      expect(files[path]).toBe(sha256('laptop edit\n'));
      for (const copy of Object.keys(files)) {
        expect(Buffer.byteLength(join(desktop.folder, copy))).toBeLessThanOrEqual(4095);
        expect(copy.endsWith('.txt')).toBe(true);
      }
    } finally {
      await close(laptop, desktop);
    }
  });
});

describe('kind 1: an undecodable name is skipped and reported, and hides no valid name', () => {
  test('a valid bad\\uFFFD.txt syncs both ways while the undecodable bad\\xff.txt is skipped and reported', async () => {
    const { laptop, desktop } = await twoDevices('undecodable');
    try {
      const raw = (...parts: (string | number[])[]) =>
        Buffer.concat([Buffer.from(`${laptop.folder}/`), ...parts.map((part) => Buffer.from(part))]);
      writeFileSync(raw('bad', [0xff], '.txt'), 'undecodable name\n');
      writeTree(laptop.folder, {
        'bad\uFFFD.txt': 'a real file whose name holds U+FFFD\n',
        'dir\uFFFD/inside.txt': 'below a valid folder\n',
      });
      const undecodableFolder = raw('dir', [0xc3]);
      mkdirSync(undecodableFolder);
      writeFileSync(Buffer.concat([undecodableFolder, Buffer.from('/inside.txt')]), 'below\n');

      const first = await laptop.sync();
      expect(first.filesUploaded).toBe(2);
      expect(first.skipped).toEqual(
        expect.arrayContaining([
          { path: 'bad\\xff.txt', reason: expect.stringContaining('not its real name') },
          { path: 'dir\\xc3', reason: expect.stringContaining('not valid UTF-8') },
        ]),
      );
      expect(first.skipped).toHaveLength(2);
      await desktop.sync();
      expect(allFiles(desktop.folder)).toEqual({
        'bad\uFFFD.txt': sha256('a real file whose name holds U+FFFD\n'),
        'dir\uFFFD/inside.txt': sha256('below a valid folder\n'),
      });

      writeTree(desktop.folder, {
        'bad\uFFFD.txt': 'edited on the desktop\n',
        'dir\uFFFD/inside.txt': 'also edited\n',
      });
      expect(await desktop.sync()).toMatchObject({ filesUploaded: 2 });
      expect(await laptop.sync()).toMatchObject({ filesDownloaded: 2, failed: [] });
      expect(readFileSync(join(laptop.folder, 'bad\uFFFD.txt'), 'utf8')).toBe('edited on the desktop\n');
      expect(readFileSync(join(laptop.folder, 'dir\uFFFD', 'inside.txt'), 'utf8')).toBe('also edited\n');
      expect(readFileSync(raw('bad', [0xff], '.txt'), 'utf8')).toBe('undecodable name\n');
    } finally {
      await close(laptop, desktop);
    }
  });
});

/** The `filesync` CLI, run as uid/gid 65534 when the tests run as root (root reads through 000). */
const cliAsUser = (args: readonly string[]) => cli(args, { unprivileged: true });

describe('kind 1: a local file the client cannot read is unknown, never replaced or deleted', () => {
  test('an unreadable file with its size and mtime unchanged is skipped and reported, not replaced by a remote edit nor deleted', async () => {
    const email = uniqueEmail('unreadable-file');
    const locked = { home: dir('unreadable-file-home'), folder: dir('unreadable-file') };
    giveToNobody(locked.home);
    const global = ['--server', stack.server, '--home', locked.home];
    expect(await cliAsUser([...global, 'signup', '--email', email, '--device', 'locked'])).toMatchObject({
      code: 0,
    });
    writeTree(locked.folder, {
      'secret.txt': 'only on this disk matters\n',
      'old.txt': 'to be deleted elsewhere\n',
      'a.txt': 'a\n',
      'b.txt': 'b\n',
    });
    giveToNobody(locked.folder);
    expect(await cliAsUser([...global, 'sync', locked.folder])).toMatchObject({ code: 0 });
    const desktop = await FilesyncClient.open({
      home: dir('unreadable-file-desktop-home'),
      server: stack.server,
    });
    const desktopFolder = dir('unreadable-file-desktop');
    try {
      await desktop.login(email, TEST_PASSWORD, 'desktop');
      await desktop.sync(desktopFolder);

      // chmod changes neither size nor mtime, only the ctime: the scan reads both files again
      // and cannot ("cannot read"), or, within one tick of the ctime clock, keeps their cached
      // hashes and the pass finds them unreadable before acting ("cannot be read").
      chmodSync(join(locked.folder, 'secret.txt'), 0o000);
      chmodSync(join(locked.folder, 'old.txt'), 0o000);
      writeTree(desktopFolder, { 'secret.txt': 'edited on the desktop\n' });
      rmSync(join(desktopFolder, 'old.txt'));
      expect(await desktop.sync(desktopFolder)).toMatchObject({ filesUploaded: 1, deleted: 1 });

      const pass = await cliAsUser([...global, 'sync', locked.folder, '--json']);
      const summary = JSON.parse(pass.stdout) as SyncSummary;
      expect(summary.skipped).toEqual(
        expect.arrayContaining([
          { path: 'secret.txt', reason: expect.stringMatching(/cannot (be )?read/) },
          { path: 'old.txt', reason: expect.stringMatching(/cannot (be )?read/) },
        ]),
      );
      expect(summary).toMatchObject({ filesDownloaded: 0, deleted: 0, failed: [] });
      expect(statSync(join(locked.folder, 'secret.txt')).mode & 0o777).toBe(0o000);
      expect(readFileSync(join(locked.folder, 'secret.txt'), 'utf8')).toBe('only on this disk matters\n');
      expect(readFileSync(join(locked.folder, 'old.txt'), 'utf8')).toBe('to be deleted elsewhere\n');

      // Readable again: the remote edit and deletion apply, and the devices agree.
      chmodSync(join(locked.folder, 'secret.txt'), 0o600);
      chmodSync(join(locked.folder, 'old.txt'), 0o644);
      expect(await cliAsUser([...global, 'sync', locked.folder])).toMatchObject({ code: 0 });
      expect(readFileSync(join(locked.folder, 'secret.txt'), 'utf8')).toBe('edited on the desktop\n');
      expect(existsSync(join(locked.folder, 'old.txt'))).toBe(false);
      expect(allFiles(locked.folder)).toEqual(allFiles(desktopFolder));
    } finally {
      await desktop.close();
    }
  });

  test('a remote edit keeps the permission bits of the file it replaces: a private file stays private', async () => {
    const { laptop, desktop } = await twoDevices('file-mode');
    try {
      writeTree(laptop.folder, { 'private.txt': 'mine\n', 'script.sh': 'echo hi\n', 'plain.txt': 'x\n' });
      chmodSync(join(laptop.folder, 'private.txt'), 0o600);
      chmodSync(join(laptop.folder, 'script.sh'), 0o750);
      await laptop.sync();
      await desktop.sync();
      writeTree(desktop.folder, {
        'private.txt': 'mine, edited elsewhere\n',
        'script.sh': 'echo hello\n',
        'plain.txt': 'y\n',
      });
      await desktop.sync();

      expect(await laptop.sync()).toMatchObject({ filesDownloaded: 3, failed: [] });
      const mode = (name: string) => statSync(join(laptop.folder, name)).mode & 0o777;
      expect(readFileSync(join(laptop.folder, 'private.txt'), 'utf8')).toBe('mine, edited elsewhere\n');
      expect(mode('private.txt')).toBe(0o600);
      expect(mode('script.sh')).toBe(0o750);
      expect(mode('plain.txt')).toBe(0o644 & ~process.umask());
    } finally {
      await close(laptop, desktop);
    }
  });
});
