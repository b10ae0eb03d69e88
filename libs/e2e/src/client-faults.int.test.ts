import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metadata } from '@filesync/contracts';
import { EXIT, FilesyncClient, MassDeleteError, type SyncSummary } from '@filesync/sync-client';
import {
  CALL_TIMEOUT_MS,
  connectStubs,
  EMPTY_CONTENT,
  signUp,
  TEST_PASSWORD,
  uniqueEmail,
  unary,
  type Stubs,
} from '@filesync/test-support';
import { cli as runCli, scratchFolders, type CliResult } from './support/cli';
import { closeDevices as close, twoFolderDevices } from './support/devices';
import { readTestStack } from './support/harness';
import { treeDigest, writeTree } from './support/trees';

// Issue 6 on two real devices (two FILESYNC_HOMEs) against the real services: the client side of
// kinds 2, 4, 5, 6 and 7. Calls take seconds, not the unit tier's milliseconds.

const stack = readTestStack();
const scratch = scratchFolders();
const dir = scratch.dir;

afterAll(() => scratch.removeAll());

/** One account with two devices, `laptop` (signed up) and `desktop` (logged in). */
const twoDevices = (label: string) => twoFolderDevices(stack.server, dir, label);

/** The `filesync` CLI on the device whose home is `home`. */
function cli(home: string, args: readonly string[]): Promise<CliResult> {
  return runCli(['--server', stack.server, '--home', home, ...args]);
}

describe('kind 2: the mass-delete guard (client)', () => {
  test('a device whose folder is emptied stops with exit 4; the server and the other device keep every file', async () => {
    const { laptop, desktop } = await twoDevices('mass-delete');
    try {
      const files = Object.fromEntries(
        Array.from({ length: 5 }, (_, i) => [`docs/f${i}.txt`, `file ${i}\n`]),
      );
      writeTree(laptop.folder, files);
      await laptop.sync();
      await desktop.sync();
      await laptop.client.close();

      rmSync(join(laptop.folder, 'docs'), { recursive: true });
      const stopped = await cli(laptop.home, ['sync', laptop.folder]);
      expect(stopped.code).toBe(EXIT.massDelete);
      expect(stopped.stderr).toContain('would delete 5 of 5 synced files');
      expect(stopped.stderr).toContain('5 are missing from this folder (docs/f0.txt');
      expect(stopped.stderr).toContain('--force');

      // Nothing was deleted anywhere: the other device keeps every file, and the next pass of the
      // emptied device proposes the same deletion again instead of forgetting it.
      const after = await desktop.sync();
      expect(after.deleted).toBe(0);
      expect(Object.keys(treeDigest(desktop.folder)).sort()).toEqual(Object.keys(files).sort());
      const again = await cli(laptop.home, ['sync', laptop.folder, '--json']);
      expect(again.code).toBe(EXIT.massDelete);

      const forced = await cli(laptop.home, ['sync', laptop.folder, '--force', '--json']);
      expect(forced.code).toBe(EXIT.success);
      expect(JSON.parse(forced.stdout)).toMatchObject({ deleted: 5, skipped: [], failed: [] });
      // The other device was told: its own pass deletes them only with its user's confirmation.
      await expect(desktop.sync()).rejects.toThrow(MassDeleteError);
      expect((await desktop.client.sync(desktop.folder, { force: true })).deleted).toBe(5);
    } finally {
      await close(desktop);
    }
  });
});

describe('kind 4: a file and a folder at the same path', () => {
  test('a file replaced by a folder, and a folder by a file, converge on the other device in one pass', async () => {
    const { laptop, desktop } = await twoDevices('file-folder');
    try {
      // Enough other files that two deletions within the hour are not a mass delete on the server.
      const kept = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`keep/${i}.txt`, `kept ${i}\n`]));
      writeTree(laptop.folder, { notes: 'a file\n', ...kept });
      await laptop.sync();
      await desktop.sync();

      rmSync(join(laptop.folder, 'notes'));
      writeTree(laptop.folder, { 'notes/part1.txt': 'now a folder\n' });
      await laptop.sync();
      const folderArrives = await desktop.sync();
      expect(folderArrives).toMatchObject({ deleted: 1, filesDownloaded: 1, failed: [] });
      expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));

      rmSync(join(laptop.folder, 'notes'), { recursive: true });
      writeTree(laptop.folder, { notes: 'a file again\n' });
      await laptop.sync();
      const fileArrives = await desktop.sync();
      expect(fileArrives).toMatchObject({ deleted: 1, filesDownloaded: 1, failed: [] });
      expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
      expect(readFileSync(join(desktop.folder, 'notes'), 'utf8')).toBe('a file again\n');
    } finally {
      await close(laptop, desktop);
    }
  });

  // Needs the server's tree rule (REJECTION_REASON_PATH_CLASH, services/metadata).
  test('a file and a folder created at one path on two devices: both contents kept on both', async () => {
    const { laptop, desktop } = await twoDevices('clash');
    try {
      writeTree(laptop.folder, { 'keep.txt': 'kept\n' });
      await laptop.sync();
      await desktop.sync();

      // The laptop makes `plan` a file and `draft` a folder; the desktop, offline, the reverse.
      writeTree(laptop.folder, { plan: 'the laptop plan\n', 'draft/ch1.txt': 'laptop chapter\n' });
      await laptop.sync();
      writeTree(desktop.folder, { 'plan/ch1.txt': 'desktop chapter\n', draft: 'the desktop draft\n' });
      const resolved = await desktop.sync();
      expect(resolved).toMatchObject({ conflicts: 2, failed: [] });
      await laptop.sync();

      expect(treeDigest(laptop.folder)).toEqual(treeDigest(desktop.folder));
      const names = readdirSync(desktop.folder).sort();
      const planCopy = names.find((name) => name.startsWith('plan (conflicted copy desktop '))!;
      const draftCopy = names.find((name) => name.startsWith('draft (conflicted copy desktop '))!;
      for (const folder of [laptop.folder, desktop.folder]) {
        expect(readFileSync(join(folder, 'plan'), 'utf8')).toBe('the laptop plan\n');
        expect(readFileSync(join(folder, planCopy, 'ch1.txt'), 'utf8')).toBe('desktop chapter\n');
        expect(readFileSync(join(folder, 'draft', 'ch1.txt'), 'utf8')).toBe('laptop chapter\n');
        expect(readFileSync(join(folder, draftCopy), 'utf8')).toBe('the desktop draft\n');
      }
    } finally {
      await close(laptop, desktop);
    }
  });
});

describe('kind 5: names', () => {
  test('colon names sync, a long name keeps its conflicted copy within 255 bytes, an NFD folder gets no NFC twin', async () => {
    const { laptop, desktop } = await twoDevices('names');
    const long = `${'n'.repeat(236)}.txt`;
    try {
      writeTree(laptop.folder, {
        'c:notes.txt': 'colon\n',
        'x:backup/a.txt': 'drive-like\n',
        [long]: 'v1\n',
      });
      await laptop.sync();
      // The desktop keeps its folder in NFD, as macOS writes names.
      writeTree(desktop.folder, { 'Cafe\u0301/menu.txt': 'menu\n' });
      await desktop.sync();
      await laptop.sync();
      expect(readFileSync(join(desktop.folder, 'x:backup', 'a.txt'), 'utf8')).toBe('drive-like\n');

      writeTree(laptop.folder, { 'Caf\u00e9/dessert.txt': 'dessert\n', [long]: 'laptop edit\n' });
      await laptop.sync();
      writeTree(desktop.folder, { [long]: 'desktop edit\n' });
      const pass = await desktop.sync();
      expect(pass).toMatchObject({ conflicts: 1, failed: [] });
      expect(readdirSync(desktop.folder).filter((name) => name.startsWith('Caf'))).toEqual(['Cafe\u0301']);
      expect(readdirSync(join(desktop.folder, 'Cafe\u0301')).sort()).toEqual(['dessert.txt', 'menu.txt']);
      const copy = readdirSync(desktop.folder).find((name) => name.includes('(conflicted copy'))!;
      expect(Buffer.byteLength(copy)).toBeLessThanOrEqual(255);
      expect(readFileSync(join(desktop.folder, copy), 'utf8')).toBe('desktop edit\n');

      await laptop.sync();
      expect(readFileSync(join(laptop.folder, copy), 'utf8')).toBe('desktop edit\n');
      expect(readFileSync(join(laptop.folder, long), 'utf8')).toBe('laptop edit\n');
    } finally {
      await close(laptop, desktop);
    }
  });

  test('names the rules refuse are skipped with their reason, listed by --json and counted, exit 3', async () => {
    const { laptop, desktop } = await twoDevices('refused-names');
    await close(laptop, desktop);
    writeTree(laptop.folder, { 'ok.txt': 'fine\n', 'line\nbreak.txt': 'x', 'back\\slash.txt': 'x' });
    writeFileSync(
      Buffer.concat([Buffer.from(`${laptop.folder}/bad`), Buffer.from([0xff]), Buffer.from('.txt')]),
      'x',
    );

    const json = await cli(laptop.home, ['sync', laptop.folder, '--json']);
    expect(json.code).toBe(EXIT.incomplete);
    const summary = JSON.parse(json.stdout) as SyncSummary;
    expect(summary.filesUploaded).toBe(1);
    expect(summary.skipped).toEqual(
      expect.arrayContaining([
        { path: 'line\nbreak.txt', reason: expect.stringContaining('control character') },
        { path: 'back\\slash.txt', reason: expect.stringContaining('backslash') },
        { path: 'bad\\xff.txt', reason: expect.stringContaining('not valid UTF-8') },
      ]),
    );

    const human = await cli(laptop.home, ['sync', laptop.folder]);
    expect(human.code).toBe(EXIT.incomplete);
    expect(human.stdout).toContain('Not synced: 3 skipped, 0 failed');
    expect(human.stdout).toContain('not valid UTF-8');
  });
});

describe('kind 6: any modification time round-trips', () => {
  const dated = async (label: string, mtime: Date) => {
    const { laptop, desktop } = await twoDevices(label);
    try {
      writeTree(laptop.folder, { 'dated.txt': `dated ${mtime.toISOString()}\n` });
      utimesSync(join(laptop.folder, 'dated.txt'), mtime, mtime);
      await laptop.sync();
      await desktop.sync();
      expect(statSync(join(desktop.folder, 'dated.txt')).mtimeMs).toBe(mtime.getTime());
    } finally {
      await close(laptop, desktop);
    }
  };

  test('a file dated 1970-01-01 00:00:00 arrives with that date, not the download time', () =>
    dated('epoch', new Date(0)));

  // Needs the server to accept times before 1970 (services/metadata).
  test('a file dated 1960 arrives with that date', () =>
    dated('sixties', new Date(Date.UTC(1960, 5, 1, 12))));
});

// Needs per-path rejections in CommitFiles (services/metadata).
describe('kind 7: one bad path never blocks the others', () => {
  let stubs: Stubs;
  beforeAll(() => {
    stubs = connectStubs(stack);
  });
  afterAll(() => stubs?.close());

  test('a batch with one invalid change commits the others, and the other device gets them', async () => {
    const email = uniqueEmail('one-bad-path');
    const session = await signUp(stubs, 'one-bad-path', email);
    const good = {
      path: 'good.txt',
      baseVersion: 0,
      content: EMPTY_CONTENT,
      delete: false,
      modifiedAtMs: 0,
      moveFrom: '',
      moveFromBaseVersion: 0,
    };
    const bad = { ...good, path: 'bad.txt', content: { ...EMPTY_CONTENT, contentHash: 'not a hash' } };
    const response = await unary(
      stubs.metadata.commitFiles.bind(stubs.metadata),
      { confirmMassDelete: false, namespaceId: session.rootNamespaceId, changes: [bad, good] },
      { timeoutMs: CALL_TIMEOUT_MS, accessToken: session.accessToken },
    );
    expect(response.results).toEqual([
      {
        path: 'bad.txt',
        outcome: {
          $case: 'rejected',
          value: expect.objectContaining({
            reason: metadata.RejectionReason.REJECTION_REASON_INVALID_CHANGE,
          }),
        },
      },
      { path: 'good.txt', outcome: { $case: 'committed', value: expect.objectContaining({ version: 1 }) } },
    ]);

    const home = dir('one-bad-path-home');
    const folder = dir('one-bad-path');
    const device = await FilesyncClient.open({ home, server: stack.server });
    try {
      await device.login(email, TEST_PASSWORD, 'device');
      expect(await device.sync(folder)).toMatchObject({ filesDownloaded: 1, failed: [] });
      expect(readdirSync(folder)).toEqual(['good.txt']);
    } finally {
      await device.close();
    }
  });
});
