import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { metadata } from '@filesync/contracts';
import { packKey } from '@filesync/resources';
import { blockHash, contentHash, type BuiltPack } from '@filesync/sync-core';

/** HTTP status of a failed AWS SDK call. */
export function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** The HTTP status an S3 call failed with; throws when it succeeded. */
export async function s3FailureStatus(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
  } catch (error) {
    return httpStatus(error);
  }
  throw new Error('the S3 call succeeded');
}

const S3_TIMEOUT = () => ({ abortSignal: AbortSignal.timeout(10_000) });

/**
 * Writes a pack object as a native client does (its storage credentials, If-None-Match: '*'):
 * 'uploaded', or 'exists' when S3 answered 412 because that key (the same bytes: the id is their
 * hash) is stored already. Any other failure throws.
 */
export async function putPackObject(
  s3: S3Client,
  bucket: string,
  namespaceId: string,
  pack: BuiltPack,
): Promise<'uploaded' | 'exists'> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: packKey(namespaceId, pack.packId),
        Body: Buffer.concat(pack.parts),
        IfNoneMatch: '*',
      }),
      S3_TIMEOUT(),
    );
    return 'uploaded';
  } catch (error) {
    if (httpStatus(error) === 412) return 'exists';
    throw error;
  }
}

/**
 * The bytes of one block stored in a pack, read as a downloader does: a ranged GET of the pack at
 * the location LocateBlocks gave. The caller verifies the bytes' hash.
 */
export async function readPackedBlock(
  s3: S3Client,
  bucket: string,
  namespaceId: string,
  location: metadata.BlockLocation,
): Promise<Buffer> {
  if (location.packId === '' || location.length <= 0) {
    throw new Error(`block ${location.blockHash} is not located in a pack: ${JSON.stringify(location)}`);
  }
  const object = await s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: packKey(namespaceId, location.packId),
      // HTTP ranges include both ends.
      Range: `bytes=${location.offset}-${location.offset + location.length - 1}`,
    }),
    S3_TIMEOUT(),
  );
  return Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

/** A file cut into fixed blocks, with the FileContent metadata expects for it. */
export function fileOf(blocks: readonly Uint8Array[]) {
  const blockHashes = blocks.map((block) => blockHash(block));
  return {
    blocks,
    content: {
      contentHash: contentHash(blockHashes),
      size: blocks.reduce((sum, block) => sum + block.byteLength, 0),
      blockHashes,
    },
  };
}
