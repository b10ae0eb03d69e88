import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { auth } from '@filesync/contracts';
import { blockKey } from '@filesync/resources';
import { blockHash, contentHash } from '@filesync/sync-core';

/** An S3 client exactly as a native client builds it from GetStorageCredentials. */
export function storageClient(grant: auth.GetStorageCredentialsResponse): S3Client {
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

/** HTTP status of a failed AWS SDK call. */
export function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** PutObject with If-None-Match: '*': 'uploaded', or 'exists' when S3 answered 412. */
export async function putBlock(
  s3: S3Client,
  bucket: string,
  namespaceId: string,
  bytes: Uint8Array,
): Promise<'uploaded' | 'exists'> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: blockKey(namespaceId, blockHash(bytes)),
        Body: bytes,
        IfNoneMatch: '*',
      }),
      { abortSignal: AbortSignal.timeout(10_000) },
    );
    return 'uploaded';
  } catch (error) {
    if (httpStatus(error) === 412) return 'exists';
    throw error;
  }
}

export async function getBlock(
  s3: S3Client,
  bucket: string,
  namespaceId: string,
  hash: string,
): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: blockKey(namespaceId, hash) }), {
    abortSignal: AbortSignal.timeout(10_000),
  });
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
