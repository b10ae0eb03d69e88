import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { blockKey } from '@filesync/resources';
import type { BlockStorage } from '../domain/ports';

/**
 * Listing more pages than this costs more than asking per block; the checker then falls back.
 * A page (1,000 keys) is one sequential request, while per-block requests run 16 at a time: a
 * commit of many unknown blocks (a 50,000-block file, issue 6 kind 10) may list that many more.
 */
const MIN_LIST_PAGES = 20;
const PARALLEL_HEADS = 16;

/** Blocks in the S3 bucket under `ns/<namespace>/blocks/<hash>`. */
export class S3BlockStorage implements BlockStorage {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async exists(namespaceId: string, hash: string): Promise<boolean> {
    try {
      await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: blockKey(namespaceId, hash) }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async storedAmong(namespaceId: string, wanted: ReadonlySet<string>): Promise<Set<string>> {
    const prefix = blockKey(namespaceId, '');
    const stored = new Set<string>();
    let token: string | undefined;
    const maxPages = Math.max(MIN_LIST_PAGES, Math.ceil(wanted.size / PARALLEL_HEADS));
    for (let page = 0; page < maxPages; page += 1) {
      const output = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of output.Contents ?? []) {
        const hash = object.Key?.slice(prefix.length);
        if (hash && wanted.has(hash)) stored.add(hash);
      }
      token = output.IsTruncated ? output.NextContinuationToken : undefined;
      if (!token || stored.size === wanted.size) return stored;
    }
    throw new Error(`namespace ${namespaceId} holds too many blocks to list`);
  }
}

function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NotFound' || name === 'NoSuchKey' || $metadata?.httpStatusCode === 404;
}
