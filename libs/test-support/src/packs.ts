import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { auth, metadata } from '@filesync/contracts';
import { unary } from '@filesync/contracts';
import { packKey } from '@filesync/resources';
import { PackBuilder, blockHash, type BuiltPack } from '@filesync/sync-core';
import { CALL_TIMEOUT_MS, type Stubs } from './grpc';

/** An S3 client exactly as a native client builds it from GetStorageCredentials. */
export function clientStorage(grant: auth.GetStorageCredentialsResponse): S3Client {
  return new S3Client({
    region: grant.region,
    ...(grant.endpoint ? { endpoint: grant.endpoint } : {}),
    forcePathStyle: grant.forcePathStyle,
    credentials: {
      accessKeyId: grant.accessKeyId,
      secretAccessKey: grant.secretAccessKey,
      sessionToken: grant.sessionToken,
    },
    maxAttempts: 2,
  });
}

/** The given blocks as one pack (libs/sync-core pack format), in order. */
export function buildPack(blocks: readonly Uint8Array[]): BuiltPack {
  const builder = new PackBuilder(Number.MAX_SAFE_INTEGER);
  for (const block of blocks) builder.add(blockHash(block), block);
  return builder.finish();
}

/** The RegisterPacks entry of a built pack. */
export function packMessage(pack: BuiltPack): metadata.Pack {
  return {
    packId: pack.packId,
    size: pack.size,
    blocks: pack.entries.map((entry) => ({
      blockHash: entry.hash,
      offset: entry.offset,
      length: entry.length,
    })),
  };
}

/** Writes a pack object the way a client does (its storage credentials, If-None-Match). */
export async function putPack(
  s3: S3Client,
  bucket: string,
  namespaceId: string,
  pack: BuiltPack,
): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: packKey(namespaceId, pack.packId),
        Body: Buffer.concat(pack.parts),
        IfNoneMatch: '*',
      }),
      { abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
    );
  } catch (error) {
    // 412: the same pack (same bytes, same id) is stored already.
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw error;
  }
}

/**
 * Stores blocks as a client does: one pack written with the session's storage credentials, then
 * registered with RegisterPacks. Returns the pack; its blocks are then in the namespace.
 */
export async function storeBlocks(
  stubs: Stubs,
  session: { accessToken: string },
  namespaceId: string,
  blocks: readonly Uint8Array[],
): Promise<BuiltPack> {
  const call = { timeoutMs: CALL_TIMEOUT_MS, accessToken: session.accessToken };
  const grant = await unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, call);
  const s3 = clientStorage(grant);
  try {
    const pack = buildPack(blocks);
    await putPack(s3, grant.bucket, namespaceId, pack);
    await unary(
      stubs.metadata.registerPacks.bind(stubs.metadata),
      { namespaceId, packs: [packMessage(pack)] },
      call,
    );
    return pack;
  } finally {
    s3.destroy();
  }
}
