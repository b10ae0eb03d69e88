import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { blockKey, packKey, packsPrefix } from '@filesync/resources';
import type { GcStorage, StoredObject } from './ports';

/**
 * The blocks bucket for the collector. Listing a namespace's prefix is fine here (a background
 * job), never on a request path.
 */
export class S3GcStorage implements GcStorage {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  private async *list(prefix: string): AsyncIterable<StoredObject> {
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(prefix.length) ?? '';
        if (name === '' || name.includes('/')) continue; // Not one of ours.
        yield {
          name,
          size: object.Size ?? 0,
          lastModifiedMs: object.LastModified?.getTime() ?? Date.now(),
        };
      }
    }
  }

  packObjects(namespaceId: string): AsyncIterable<StoredObject> {
    return this.list(packsPrefix(namespaceId));
  }

  legacyBlockObjects(namespaceId: string): AsyncIterable<StoredObject> {
    return this.list(blockKey(namespaceId, ''));
  }

  async readPackRange(
    namespaceId: string,
    packId: string,
    offset: number,
    length: number,
  ): Promise<Uint8Array> {
    const output = await this.client.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: packKey(namespaceId, packId),
        Range: `bytes=${offset}-${offset + length - 1}`,
      }),
    );
    if (!output.Body) throw new Error(`pack ${packId}: empty answer to a ranged read`);
    return output.Body.transformToByteArray();
  }

  async writePack(
    namespaceId: string,
    packId: string,
    parts: readonly Uint8Array[],
    size: number,
  ): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: packKey(namespaceId, packId),
          Body: Buffer.concat(parts),
          ContentLength: size,
          // Objects are immutable: a pack with this id holds exactly these bytes (its id is their hash).
          IfNoneMatch: '*',
        }),
      );
    } catch (error) {
      if (!isStatus(error, 412)) throw error;
    }
  }

  async deletePackObject(namespaceId: string, packId: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: packKey(namespaceId, packId) }),
    );
  }

  async deleteLegacyBlock(namespaceId: string, hash: string): Promise<number> {
    const key = blockKey(namespaceId, hash);
    let size: number;
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      size = head.ContentLength ?? 0;
    } catch (error) {
      if (isStatus(error, 404)) return 0;
      throw error;
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    return size;
  }
}

function isStatus(error: unknown, status: number): boolean {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === status;
}
