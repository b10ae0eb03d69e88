import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { closeDevices, twoFolderDevices, type FolderDevice } from './support/devices';
import { readTestStack } from './support/harness';
import { sha256, tempDir, treeDigest, writeTree } from './support/trees';

// Real services and emulators. A folder renamed on one device is committed as moves: nothing is
// uploaded, the journal says where each file went, and the other device renames its own copies
// instead of downloading or copying them (issue 8, section 4: renames and moves).

describe('a folder renamed on one device', () => {
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
    ({ laptop, desktop } = await twoFolderDevices(stack.server, dir, 'renames'));
  });

  afterAll(async () => {
    await closeDevices(...[laptop, desktop].filter(Boolean));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('uploads no content and the other device downloads none', async () => {
    const files: Record<string, Uint8Array> = {};
    // Big files of many blocks, small ones sharing packs.
    for (let index = 0; index < 3; index++) files[`album/big-${index}.bin`] = randomBytes(6 * 1024 * 1024);
    for (let index = 0; index < 20; index++) files[`album/small/${index}.txt`] = randomBytes(3000 + index);
    const bytes = Object.values(files).reduce((sum, content) => sum + content.byteLength, 0);
    writeTree(laptop.folder, files);
    await laptop.sync();
    await desktop.sync();
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));

    mkdirSync(join(laptop.folder, 'photos'));
    renameSync(join(laptop.folder, 'album'), join(laptop.folder, 'photos', 'album 2026'));
    const moved = await laptop.sync();
    // Committed as moves: nothing uploaded, nothing deleted, nothing created.
    expect(moved).toMatchObject({
      moved: 23,
      filesUploaded: 0,
      deleted: 0,
      uploadedBytes: 0,
      uploadedBlocks: 0,
      conflicts: 0,
      failed: [],
    });
    // The journal says where each file went, and where it came from.
    const [arrivedAt] = await laptop.client.versions('photos/album 2026/big-0.bin');
    expect(arrivedAt).toMatchObject({ version: 1, movedFrom: 'album/big-0.bin', deleted: false });
    const [leftFrom] = await laptop.client.versions('album/big-0.bin');
    expect(leftFrom).toMatchObject({ version: 2, movedTo: 'photos/album 2026/big-0.bin', deleted: true });

    // The other device renames its own copies: nothing downloaded, nothing read back.
    const arrived = await desktop.sync();
    expect(arrived).toMatchObject({
      moved: 23,
      filesDownloaded: 0,
      deleted: 0,
      downloadedBytes: 0,
      reusedBytes: 0,
      downloadRequests: 0,
      conflicts: 0,
      failed: [],
    });
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
    expect(bytes).toBeGreaterThan(18 * 1024 * 1024);
  });

  test('a move racing an edit of the old path on the other device keeps both contents', async () => {
    const original = randomBytes(200_000);
    writeTree(laptop.folder, { 'race/notes.bin': original });
    await laptop.sync();
    await desktop.sync();

    renameSync(join(laptop.folder, 'race', 'notes.bin'), join(laptop.folder, 'race', 'moved.bin'));
    const edited = Buffer.concat([original, Buffer.from('an edit on the desktop')]);
    writeTree(desktop.folder, { 'race/notes.bin': edited });
    expect(await laptop.sync()).toMatchObject({ moved: 1, uploadedBytes: 0, failed: [] });

    // The desktop's edit of the moved path wins over the move's deletion there; the moved file
    // arrives beside it. Then the laptop gets the edit back.
    const desktopPass = await desktop.sync();
    expect(desktopPass.failed).toEqual([]);
    await laptop.sync();
    await desktop.sync();
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
    const tree = treeDigest(desktop.folder);
    expect(tree['race/moved.bin']).toBe(sha256(original));
    expect(tree['race/notes.bin']).toBe(sha256(edited));
  });
});
