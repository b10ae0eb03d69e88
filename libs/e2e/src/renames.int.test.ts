import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FilesyncClient } from '@filesync/sync-client';
import { TEST_PASSWORD, uniqueEmail } from '@filesync/test-support';
import { readTestStack } from './support/harness';
import { tempDir, treeDigest, writeTree } from './support/trees';

// Real services and emulators. A folder renamed on one device: its bytes are on the server
// already, so nothing is uploaded; the other device moves its own copies into place instead of
// downloading them again (issue 8: renames and moves).

describe('a folder renamed on one device', () => {
  const stack = readTestStack();
  const dirs = { laptop: tempDir('rename-laptop'), desktop: tempDir('rename-desktop') };
  const homes = { laptop: tempDir('rename-laptop-home'), desktop: tempDir('rename-desktop-home') };
  let laptop: FilesyncClient;
  let desktop: FilesyncClient;

  beforeAll(async () => {
    laptop = await FilesyncClient.open({ home: homes.laptop, server: stack.server });
    desktop = await FilesyncClient.open({ home: homes.desktop, server: stack.server });
    const email = uniqueEmail('renames');
    await laptop.signup(email, TEST_PASSWORD, 'laptop');
    await desktop.login(email, TEST_PASSWORD, 'desktop');
  });

  afterAll(async () => {
    await laptop?.close();
    await desktop?.close();
    for (const dir of [...Object.values(dirs), ...Object.values(homes)])
      rmSync(dir, { recursive: true, force: true });
  });

  test('uploads no content and the other device downloads none', async () => {
    const files: Record<string, Uint8Array> = {};
    // Big files of many blocks, small ones sharing packs.
    for (let index = 0; index < 3; index++) files[`album/big-${index}.bin`] = randomBytes(6 * 1024 * 1024);
    for (let index = 0; index < 20; index++) files[`album/small/${index}.txt`] = randomBytes(3000 + index);
    const bytes = Object.values(files).reduce((sum, content) => sum + content.byteLength, 0);
    writeTree(dirs.laptop, files);
    await laptop.sync(dirs.laptop);
    await desktop.sync(dirs.desktop);
    expect(treeDigest(dirs.desktop)).toEqual(treeDigest(dirs.laptop));

    mkdirSync(join(dirs.laptop, 'photos'));
    renameSync(join(dirs.laptop, 'album'), join(dirs.laptop, 'photos', 'album 2026'));
    const moved = await laptop.sync(dirs.laptop);
    expect(moved).toMatchObject({
      filesUploaded: 23,
      deleted: 23,
      uploadedBytes: 0,
      conflicts: 0,
      failed: [],
    });

    const arrived = await desktop.sync(dirs.desktop);
    expect(arrived).toMatchObject({ filesDownloaded: 23, deleted: 23, downloadedBytes: 0, failed: [] });
    expect(arrived.reusedBytes).toBe(bytes);
    expect(treeDigest(dirs.desktop)).toEqual(treeDigest(dirs.laptop));
  });
});
