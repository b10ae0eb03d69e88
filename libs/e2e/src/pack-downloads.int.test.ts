import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { packsPrefix } from '@filesync/resources';
import { blockHash, chunkBuffer, readPackTrailer } from '@filesync/sync-core';
import { FilesyncClient, SyncIncompleteError } from '@filesync/sync-client';
import { TEST_PASSWORD } from '@filesync/test-support';
import { closeDevices, twoFolderDevices, type FolderDevice } from './support/devices';
import { emulatorS3, readTestStack } from './support/harness';
import { tempDir, treeDigest, writeTree } from './support/trees';

// Real services and emulators: the second device reads packed blocks with ranged GETs.
describe('downloads from packs', () => {
  const stack = readTestStack();
  const dirs: string[] = [];
  const dir = (label: string) => {
    const made = tempDir(label);
    dirs.push(made);
    return made;
  };
  const s3 = emulatorS3(stack);
  let laptop: FolderDevice;
  let desktop: FolderDevice;
  let namespaceId: string;
  let email: string;

  beforeAll(async () => {
    ({ email, laptop, desktop } = await twoFolderDevices(stack.server, dir, 'packs'));
    namespaceId = (await laptop.client.status()).namespaceId;
  });

  afterAll(async () => {
    s3.destroy();
    await closeDevices(laptop, desktop);
    for (const made of dirs) rmSync(made, { recursive: true, force: true });
  });

  test('a second device downloads 2,000 small files byte-identical with a few ranged GETs, not one per file', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 2000; i++) {
      files[`small/${String(Math.floor(i / 100)).padStart(2, '0')}/file-${i}.bin`] = randomBytes(
        1024 + ((i * 7919) % (15 * 1024)),
      );
    }
    writeTree(laptop.folder, files);
    expect((await laptop.sync()).filesUploaded).toBe(2000);

    const down = await desktop.sync();
    expect(down.failed).toEqual([]);
    expect(down.filesDownloaded).toBe(2000);
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
    // About 17 MiB in one or two packs, read in ranges of at most 4 MiB: a handful of GETs.
    expect(down.downloadRequests).toBeGreaterThan(0);
    expect(down.downloadRequests).toBeLessThanOrEqual(12);
  });

  test('a big file edited on one device: the other downloads its changed blocks only, the rest from its own copy', async () => {
    const MiB = 1024 * 1024;
    const original = randomBytes(24 * MiB);
    writeTree(laptop.folder, { 'video/big.bin': original });
    await laptop.sync();
    expect((await desktop.sync()).downloadedBytes).toBe(original.length);

    // 1 MiB of new bytes in the middle, as an editor saves it (the whole file rewritten).
    const edited = Buffer.concat([
      original.subarray(0, 12 * MiB),
      randomBytes(MiB),
      original.subarray(12 * MiB),
    ]);
    writeTree(laptop.folder, { 'video/big.bin': edited });
    const up = await laptop.sync();
    // Cut against its old blocks, the file uploads the insertion and the one block it fell in.
    const hit = chunkBuffer(original).find(
      (block) => block.offset <= 12 * MiB && 12 * MiB < block.offset + block.length,
    )!;
    expect(up.uploadedBytes).toBeGreaterThanOrEqual(MiB);
    expect(up.uploadedBytes).toBeLessThanOrEqual(MiB + hit.length);
    const down = await desktop.sync();
    expect(down.failed).toEqual([]);
    expect(down.filesDownloaded).toBe(1);
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
    // What was uploaded is what is fetched (the blocks around the insertion); the rest is read
    // from the old copy here and verified.
    expect(down.downloadedBytes).toBe(up.uploadedBytes);
    expect(down.downloadedBytes).toBeLessThan(8 * MiB);
    expect(down.reusedBytes).toBe(edited.length - down.downloadedBytes);
  });

  test('a new device whose folder already holds a file edited elsewhere (cut there against its old blocks) records it: no conflicted copy', async () => {
    const MiB = 1024 * 1024;
    // Seeded bytes whose edit, cut against the old blocks, gets other blocks than a plain cut
    // gives (checked below): the content hashes differ though the bytes do not.
    const original = Buffer.alloc(6 * MiB);
    for (let i = 0, x = 99; i < original.length; i++)
      original[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    const at = 3 * MiB + 999;
    const edited = Buffer.concat([original.subarray(0, at), Buffer.alloc(MiB, 3), original.subarray(at)]);
    const hashes = (blocks: { hash: string }[]) => blocks.map((block) => block.hash);
    expect(hashes(chunkBuffer(edited, undefined, chunkBuffer(original)))).not.toEqual(
      hashes(chunkBuffer(edited)),
    );

    writeTree(laptop.folder, { 'joined/doc.bin': original });
    await laptop.sync();
    writeTree(laptop.folder, { 'joined/doc.bin': edited });
    expect((await laptop.sync()).filesUploaded).toBe(1);

    const folder = dir('packs-tablet');
    writeTree(folder, { 'joined/doc.bin': edited });
    const tablet = await FilesyncClient.open({ home: dir('packs-tablet-home'), server: stack.server });
    try {
      await tablet.login(email, TEST_PASSWORD, 'tablet');
      const joined = await tablet.sync(folder);
      expect(joined.failed).toEqual([]);
      expect(joined.conflicted).toEqual([]);
      expect(treeDigest(folder)).toEqual(treeDigest(laptop.folder));
      // Its base is the server's version: an edit there is an ordinary edit, no conflict anywhere.
      writeTree(folder, { 'joined/doc.bin': original });
      const edit = await tablet.sync(folder);
      expect(edit).toMatchObject({ filesUploaded: 1, conflicted: [] });
      expect((await laptop.sync()).conflicted).toEqual([]);
      expect(treeDigest(laptop.folder)).toEqual(treeDigest(folder));
    } finally {
      await tablet.close();
    }
  });

  test('a corrupted pack range is never written: that file fails, the others arrive', async () => {
    const victim = randomBytes(5000);
    const others = { 'bad/ok-1.txt': randomBytes(3000), 'bad/ok-2.txt': randomBytes(4000) };
    writeTree(laptop.folder, { 'bad/victim.bin': victim, ...others });
    expect((await laptop.sync()).filesUploaded).toBe(3);

    // Flip one byte of the victim's block inside whichever pack holds it.
    const hash = blockHash(victim);
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: stack.resources.bucket, Prefix: packsPrefix(namespaceId) }),
    );
    let corrupted = false;
    for (const object of listed.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: stack.resources.bucket, Key: object.Key }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      const entry = readPackTrailer(bytes, bytes.byteLength).find((block) => block.hash === hash);
      if (!entry) continue;
      bytes[entry.offset + 100] = bytes[entry.offset + 100]! ^ 0xff;
      await s3.send(new PutObjectCommand({ Bucket: stack.resources.bucket, Key: object.Key, Body: bytes }));
      corrupted = true;
    }
    expect(corrupted).toBe(true);

    const error = await desktop.sync().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(SyncIncompleteError);
    const summary = (error as SyncIncompleteError).summary;
    expect(summary.failed.map((failure) => failure.path)).toEqual(['bad/victim.bin']);
    expect(summary.failed[0]!.reason).toMatch(/do not match their hash/);
    expect(existsSync(join(desktop.folder, 'bad', 'victim.bin'))).toBe(false);
    // No partial file either: the temp file of a failed download is removed.
    expect(readdirSync(join(desktop.folder, 'bad')).sort()).toEqual(['ok-1.txt', 'ok-2.txt']);
    const digest = treeDigest(desktop.folder);
    const expected = treeDigest(laptop.folder);
    for (const path of Object.keys(others)) expect(digest[path]).toBe(expected[path]);
  });
});
