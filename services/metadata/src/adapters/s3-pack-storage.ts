import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { packKey } from '@filesync/resources';
import type { PackStorage, StoredPack } from '../domain/ports';

/** Packs in the S3 bucket under `ns/<namespace>/packs/<packId>`. */
export class S3PackStorage implements PackStorage {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async headPack(namespaceId: string, packId: string): Promise<StoredPack | undefined> {
    try {
      const output = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: packKey(namespaceId, packId) }),
      );
      if (output.ContentLength === undefined) return undefined;
      return { size: output.ContentLength, writtenAtMs: output.LastModified?.getTime() ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NotFound' || name === 'NoSuchKey' || $metadata?.httpStatusCode === 404;
}
