import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { LIMITS, blockKey, packsPrefix } from '@filesync/resources';
import { chunkBuffer } from '@filesync/sync-core';
import { closeDevices, twoFolderDevices, type FolderDevice } from './support/devices';
import { emulatorS3, readTestStack } from './support/harness';
import { tempDir, treeDigest, writeTree } from './support/trees';

const MIB = 1024 * 1024;
import { LOCAL_CREDENTIALS } from '@filesync/local-stack';

// Real services and emulators, the client library as the CLI uses it: the upload side on packs.
describe('uploads in packs', () => {
  const stack = readTestStack();
  const dirs: string[] = [];
  const dir = (label: string) => {
    const made = tempDir(label);
    dirs.push(made);
    return made;
  };
  const s3 = emulatorS3(stack);
  const table = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: stack.resources.region,
      endpoint: stack.emulators.dynamodb,
      credentials: LOCAL_CREDENTIALS,
    }),
  );
  const tableName = stack.resources.tables.metadata;
  const devices: FolderDevice[] = [];

  afterAll(async () => {
    s3.destroy();
    table.destroy();
    await closeDevices(...devices);
    for (const made of dirs) rmSync(made, { recursive: true, force: true });
  });

  async function pair(label: string) {
    const { laptop, desktop } = await twoFolderDevices(stack.server, dir, label);
    devices.push(laptop, desktop);
    return { laptop, desktop, namespaceId: (await laptop.client.status()).namespaceId };
  }

  /** Keys below `prefix` (a test may list; the product never does on a request path). */
  async function keysBelow(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: stack.resources.bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      keys.push(...(page.Contents ?? []).map((object) => object.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  const blockItem = (namespaceId: string, hash: string) => ({ pk: `NS#${namespaceId}`, sk: `BLOCK#${hash}` });

  test('a first sync of 2,000 small files writes a handful of packs, and a second device gets them byte-identical', async () => {
    const { laptop, desktop, namespaceId } = await pair('pack-up-small');
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 2000; i++) {
      files[`notes/${String(i % 20).padStart(2, '0')}/note-${i}.txt`] = randomBytes(
        1024 + ((i * 7919) % (15 * 1024)),
      );
    }
    writeTree(laptop.folder, files);
    const up = await laptop.sync();
    expect(up.failed).toEqual([]);
    expect(up.filesUploaded).toBe(2000);

    // About 17 MiB of blocks: packs of 1, 2, 4 and 8 MiB (the first pack is small and each next
    // one twice as big, see FIRST_PACK_BYTES) and the rest, never an object per block.
    const packs = await keysBelow(packsPrefix(namespaceId));
    expect(packs.length).toBeGreaterThanOrEqual(1);
    expect(packs.length).toBeLessThanOrEqual(6);
    expect(await keysBelow(blockKey(namespaceId, ''))).toEqual([]);

    const down = await desktop.sync();
    expect(down.failed).toEqual([]);
    expect(down.filesDownloaded).toBe(2000);
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
  });

  test('a large file round trips byte-identical; a block gone from the index by its commit is uploaded again', async () => {
    const { laptop, desktop, namespaceId } = await pair('pack-up-large');
    // A first file whose leading block the large file shares: stored and indexed before the pass.
    const head = randomBytes(3 * MIB);
    const shared = chunkBuffer(head)[0]!;
    writeTree(laptop.folder, { 'head.bin': head });
    expect((await laptop.sync()).filesUploaded).toBe(1);
    const before = await table.send(
      new GetCommand({ TableName: tableName, Key: blockItem(namespaceId, shared.hash) }),
    );
    expect(before.Item).toBeDefined();

    const large = Buffer.concat([head, randomBytes(253 * MIB)]);
    expect(chunkBuffer(large.subarray(0, 8 * MIB))[0]!.hash).toBe(shared.hash);
    writeFileSync(join(laptop.folder, 'large.bin'), large);
    const packsBefore = (await keysBelow(packsPrefix(namespaceId))).length;

    // The collector deletes the shared block's index item while the large file uploads: after
    // the pass asked what storage lacks (the first new pack is there), before its commit.
    const pass = laptop.sync();
    let deleted = false;
    const collector = (async () => {
      while ((await keysBelow(packsPrefix(namespaceId))).length === packsBefore) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await table.send(new DeleteCommand({ TableName: tableName, Key: blockItem(namespaceId, shared.hash) }));
      deleted = true;
    })();
    const up = await pass;
    await collector;
    expect(deleted).toBe(true);
    expect(up.failed).toEqual([]);
    expect(up.filesUploaded).toBe(1);
    // Uploaded again, in a pack of its own registered by the client.
    const after = await table.send(
      new GetCommand({ TableName: tableName, Key: blockItem(namespaceId, shared.hash) }),
    );
    expect(after.Item).toMatchObject({ hash: shared.hash, length: shared.length });
    expect(after.Item!.pack).not.toBe(before.Item!.pack);
    // 256 MiB in packs of about LIMITS.packTargetBytes (plus the re-upload's): not one object
    // per block.
    const packs = (await keysBelow(packsPrefix(namespaceId))).length - packsBefore;
    const full = Math.floor((256 * MIB) / LIMITS.packTargetBytes);
    expect(packs).toBeGreaterThanOrEqual(full);
    expect(packs).toBeLessThanOrEqual(full + 5);

    const down = await desktop.sync();
    expect(down.failed).toEqual([]);
    expect(down.filesDownloaded).toBe(2);
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
  });
});
