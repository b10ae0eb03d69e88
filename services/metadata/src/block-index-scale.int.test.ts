// Issue 7, "commit verification that costs O(new objects)": RegisterPacks + CommitFiles of 100 new
// files make exactly the same AWS requests in an empty namespace and in one whose block index
// already holds many entries. The metadata service's own domain and adapters run in this process
// against the emulators the integration tier started (DynamoDB Local, moto); every request their
// SDK clients send is counted by a middleware.
//
// CI fills 100,000 entries; `npm run scale:block-index` runs the 1,000,000 of the issue
// (FILESYNC_SCALE_BLOCK_INDEX_ENTRIES sets any other count).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { MiddlewareStack } from '@smithy/types';
import { LIMITS, packKey } from '@filesync/resources';
import { PackBuilder, contentHash } from '@filesync/sync-core';
import { harnessDir, readRunnerInfo } from '@filesync/test-support/runner';
import { DynamoBlockIndex } from './adapters/dynamo-block-index';
import { DynamoMetadataStore } from './adapters/dynamo-metadata-store';
import { S3PackStorage } from './adapters/s3-pack-storage';
import { Blocks } from './domain/blocks';
import { Committer } from './domain/commit';
import type { FileChange } from './domain/model';

/** The fields of the integration tier's stack info (libs/e2e support/harness.ts) used here. */
interface StackInfo {
  readonly emulators: { moto: string; dynamodb: string };
  readonly resources: { region: string; bucket: string; tables: { metadata: string; outbox: string } };
}

const ENTRIES = Number(process.env.FILESYNC_SCALE_BLOCK_INDEX_ENTRIES ?? 100_000);
const FILES = 100;
/** Emulator credentials: moto and DynamoDB Local accept any. */
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const PARALLEL_WRITES = 16;

const stack = readRunnerInfo<StackInfo>(join(harnessDir('e2e'), 'stack.json'));
const emulator = (endpoint: string) => ({
  region: stack.resources.region,
  endpoint,
  credentials: CREDENTIALS,
});

type Counts = Record<string, number>;

/** Counts every command a client sends, by service and command name; `millis` sums their durations. */
function countRequests(
  stackOf: { middlewareStack: MiddlewareStack<any, any> },
  service: string,
  counts: Counts,
  millis: Counts,
) {
  stackOf.middlewareStack.add(
    (next, context) => async (args) => {
      const name = `${service}:${context.commandName}`;
      counts[name] = (counts[name] ?? 0) + 1;
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        millis[name] = Math.round((millis[name] ?? 0) + performance.now() - started);
      }
    },
    { step: 'initialize', name: 'countRequests' },
  );
}

/** Writes `count` BLOCK# items of packed blocks below the namespace, 25 per BatchWrite, in parallel. */
async function fillIndex(documents: DynamoDBDocumentClient, namespaceId: string, count: number) {
  const table = stack.resources.tables.metadata;
  const createdAtMs = Date.now();
  let next = 0;
  const worker = async () => {
    for (let start = next; start < count; start = next) {
      next = Math.min(count, start + 25);
      let pending: Record<string, any>[] = [];
      for (let index = start; index < next; index += 1) {
        const hash = randomBytes(32).toString('hex');
        pending.push({
          PutRequest: {
            Item: {
              pk: `NS#${namespaceId}`,
              sk: `BLOCK#${hash}`,
              hash,
              pack: createHash('sha256')
                .update(`pack-${Math.floor(index / 4096)}`)
                .digest('hex'),
              offset: (index % 4096) * 8192,
              length: 8192,
              createdAtMs,
            },
          },
        });
      }
      while (pending.length > 0) {
        const output = await documents.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending as never } }),
        );
        pending = output.UnprocessedItems?.[table] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_WRITES }, worker));
}

/**
 * A client's part (not counted): 100 new files of 1-16 KiB, one block each, written as one pack.
 * Then the server's part, counted: RegisterPacks of that pack and CommitFiles of the 100 files,
 * through the metadata service's domain and adapters.
 */
async function commitNewFiles(
  namespaceId: string,
): Promise<{ counts: Counts; millis: Counts; committed: number; seconds: number }> {
  const files = Array.from({ length: FILES }, () =>
    randomBytes(1024 + Math.floor(Math.random() * 15 * 1024)),
  );
  const builder = new PackBuilder();
  const hashes = files.map((bytes) => {
    const hash = createHash('sha256').update(bytes).digest('hex');
    builder.add(hash, bytes);
    return hash;
  });
  const pack = builder.finish();
  const uploader = new S3Client({ ...emulator(stack.emulators.moto), forcePathStyle: true });
  try {
    await uploader.send(
      new PutObjectCommand({
        Bucket: stack.resources.bucket,
        Key: packKey(namespaceId, pack.packId),
        Body: Buffer.concat(pack.parts),
      }),
    );
  } finally {
    uploader.destroy();
  }

  const counts: Counts = {};
  const millis: Counts = {};
  const started = Date.now();
  const dynamo = new DynamoDBClient(emulator(stack.emulators.dynamodb));
  countRequests(dynamo, 'dynamodb', counts, millis);
  const documents = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const s3 = new S3Client({ ...emulator(stack.emulators.moto), forcePathStyle: true });
  countRequests(s3, 's3', counts, millis);
  try {
    const clock = { now: () => Date.now() };
    const blocks = new Blocks(
      new DynamoBlockIndex(documents, stack.resources.tables.metadata),
      new S3PackStorage(s3, stack.resources.bucket),
      clock,
    );
    const store = new DynamoMetadataStore(documents, {
      metadata: stack.resources.tables.metadata,
      outbox: stack.resources.tables.outbox,
    });
    const committer = new Committer({
      store,
      blocks,
      clock,
      maxFilesPerTransaction: LIMITS.maxFilesPerTransaction,
    });
    const registered = await blocks.register(namespaceId, [
      { packId: pack.packId, size: pack.size, blocks: pack.entries },
    ]);
    expect(registered).toEqual({ indexed: FILES, alreadyIndexed: 0 });
    const changes: FileChange[] = files.map((bytes, index) => ({
      path: `new/file-${String(index).padStart(3, '0')}.bin`,
      baseVersion: 0,
      modifiedAtMs: 1_700_000_000_000,
      content: {
        contentHash: contentHash([hashes[index]!]),
        size: bytes.length,
        blockHashes: [hashes[index]!],
      },
    }));
    const actor = { userId: 'scale-user', deviceId: 'scale-device', email: 'scale@example.com' };
    const { outcomes } = await committer.commit(namespaceId, actor, changes);
    return {
      counts,
      millis,
      committed: outcomes.filter((outcome) => outcome.kind === 'committed').length,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    documents.destroy();
    dynamo.destroy();
    s3.destroy();
  }
}

describe('block index at scale', () => {
  test(
    `RegisterPacks + CommitFiles of ${FILES} new files cost the same requests with ${ENTRIES.toLocaleString('en')} index entries as with none`,
    async () => {
      const filled = `scale-${randomUUID()}`;
      const documents = DynamoDBDocumentClient.from(new DynamoDBClient(emulator(stack.emulators.dynamodb)));
      const started = Date.now();
      try {
        await fillIndex(documents, filled, ENTRIES);
      } finally {
        documents.destroy();
      }
      const fillSeconds = (Date.now() - started) / 1000;

      const empty = await commitNewFiles(`scale-${randomUUID()}`);
      const full = await commitNewFiles(filled);
      console.log(
        `block index scale: filled ${ENTRIES} BLOCK# items in ${fillSeconds.toFixed(1)} s ` +
          `(${Math.round(ENTRIES / fillSeconds)} items/s, ${PARALLEL_WRITES} parallel BatchWriteItem); ` +
          `RegisterPacks + CommitFiles of ${FILES} files: empty namespace ${empty.seconds.toFixed(1)} s, ` +
          `requests ${JSON.stringify(empty.counts)}, ms ${JSON.stringify(empty.millis)}; ` +
          `with ${ENTRIES} entries ${full.seconds.toFixed(1)} s, requests ${JSON.stringify(full.counts)}, ` +
          `ms ${JSON.stringify(full.millis)} (times on a shared machine: not asserted)`,
      );

      expect(empty.committed).toBe(FILES);
      expect(full.committed).toBe(FILES);
      expect(full.counts).toEqual(empty.counts);
      // One HEAD per registered pack, and nothing else of S3: no listing, no per-block request.
      const s3 = Object.entries(empty.counts).filter(([name]) => name.startsWith('s3:'));
      expect(s3).toEqual([['s3:HeadObjectCommand', 1]]);
    },
    // Filling DynamoDB Local runs at a few thousand items a second on a shared machine.
    120_000 + ENTRIES * 2,
  );
});
