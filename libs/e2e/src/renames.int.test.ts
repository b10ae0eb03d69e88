import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { closeDevices, twoFolderDevices, type FolderDevice } from './support/devices';
import { readTestStack } from './support/harness';
import { tempDir, treeDigest, writeTree } from './support/trees';

// Real services and emulators. A folder renamed on one device: its bytes are on the server
// already, so nothing is uploaded; the other device moves its own copies into place instead of
// downloading them again (issue 8: renames and moves).

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
    expect(moved).toMatchObject({
      filesUploaded: 23,
      deleted: 23,
      uploadedBytes: 0,
      conflicts: 0,
      failed: [],
    });

    const arrived = await desktop.sync();
    expect(arrived).toMatchObject({ filesDownloaded: 23, deleted: 23, downloadedBytes: 0, failed: [] });
    expect(arrived.reusedBytes).toBe(bytes);
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
  });
});
