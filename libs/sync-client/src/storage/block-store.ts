import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { blockKey, packKey } from '@filesync/resources';
import { blockHash } from '@filesync/sync-core';
import type { StorageCredentials } from './storage-credentials';

/** Where block bytes go: the engine talks to this port, S3 is one implementation. */
export interface BlockStore {
  /** Stores a block; 'exists' when it was already there (blocks are immutable). */
  put(namespaceId: string, hash: string, bytes: Uint8Array): Promise<'uploaded' | 'exists'>;
  /** Reads a block and verifies its bytes hash to `hash`. */
  get(namespaceId: string, hash: string): Promise<Uint8Array>;
  /**
   * Reads `length` bytes at byte `offset` of pack `packId` (one ranged GET), unverified: the
   * caller checks each block in it. Throws StorageObjectGoneError when the pack is gone or shorter
   * than asked (the collector rewrote it). With `into` (at least `length` bytes), the bytes may be
   * read into it and a view of it returned, so a caller can reuse its buffers; always use what
   * is returned.
   */
  getRange(
    namespaceId: string,
    packId: string,
    offset: number,
    length: number,
    into?: Uint8Array,
  ): Promise<Uint8Array>;
  /**
   * Stores a pack object (format: libs/sync-core pack.ts) under packKey(namespaceId, packId);
   * `packId` is the SHA-256 of `bytes`. 'exists' when it was already there (packs are immutable:
   * the same id is the same bytes).
   */
  putPack(namespaceId: string, packId: string, bytes: Uint8Array): Promise<'uploaded' | 'exists'>;
  /**
   * A hint that bytes are likely to move soon: a store may get ready (credentials, client) so the
   * first transfer does not wait for that. Never throws; a failure here is met again, and
   * reported, by the transfer itself. Optional: a store with nothing to prepare leaves it out.
   */
  prepare?(): void;
}

export class BlockIntegrityError extends Error {
  override name = 'BlockIntegrityError';
}

/** The object is not there (404) or does not reach the asked range (416, short read). */
export class StorageObjectGoneError extends Error {
  override name = 'StorageObjectGoneError';
}

export interface S3BlockStoreOptions {
  /** For tests: replaces the HTTP layer. */
  readonly requestHandler?: S3ClientConfig['requestHandler'];
  /** Per-request deadline; a 4 MiB block over a slow link needs a while. */
  readonly requestTimeoutMs?: number;
  /** PEM of `--ca`: trusted beside the system roots when the S3 endpoint is https. */
  readonly extraCa?: string;
}

/** The S3 client of a store, with the SDK's commands, loaded with it (see S3BlockStore). */
interface S3Access {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly sdk: typeof import('./s3-sdk');
}

/**
 * Blocks in S3 under `ns/<namespace>/blocks/<sha256>`, moved with the short-lived credentials
 * auth hands out. The client is built once from the first credentials (bucket, region and
 * endpoint do not change) and asks the provider for fresh keys on every request. The AWS SDK is
 * loaded then (s3-sdk.ts), not with this module: a pass with no block to move never loads it.
 */
export class S3BlockStore implements BlockStore {
  private client: Promise<S3Access> | undefined;

  constructor(
    private readonly credentials: () => Promise<StorageCredentials>,
    private readonly options: S3BlockStoreOptions = {},
  ) {}

  put(namespaceId: string, hash: string, bytes: Uint8Array): Promise<'uploaded' | 'exists'> {
    return this.putOnce(blockKey(namespaceId, hash), bytes, hash);
  }

  putPack(namespaceId: string, packId: string, bytes: Uint8Array): Promise<'uploaded' | 'exists'> {
    return this.putOnce(packKey(namespaceId, packId), bytes, packId);
  }

  /**
   * Writes an immutable object unless its key is taken (If-None-Match: a 412 is success).
   * `sha256` (lowercase hex) is the SHA-256 of `bytes`, which the caller already knows (the
   * object's name): it is signed as the payload hash (x-amz-content-sha256), so the SDK does not
   * hash the body a second time on the main thread, and S3 refuses a body that does not match it.
   */
  private async putOnce(key: string, bytes: Uint8Array, sha256: string): Promise<'uploaded' | 'exists'> {
    const { s3, bucket, sdk } = await this.s3();
    const command = new sdk.PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: bytes,
      ContentLength: bytes.byteLength,
      ContentType: 'application/octet-stream',
      IfNoneMatch: '*',
    });
    command.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) request.headers['x-amz-content-sha256'] = sha256;
        return next(args);
      },
      { step: 'build', name: 'knownPayloadSha256' },
    );
    try {
      await s3.send(command);
      return 'uploaded';
    } catch (error) {
      // If-None-Match failed: the object is already stored, and blocks and packs never change.
      if (httpStatus(error) === 412) return 'exists';
      throw error;
    }
  }

  async get(namespaceId: string, hash: string): Promise<Uint8Array> {
    const { s3, bucket, sdk } = await this.s3();
    for (let attempt = 1; ; attempt++) {
      const response = await s3
        .send(new sdk.GetObjectCommand({ Bucket: bucket, Key: blockKey(namespaceId, hash) }))
        .catch(goneOr);
      if (!response.Body) throw new Error(`block ${hash}: empty response body`);
      const bytes = await response.Body.transformToByteArray();
      if (blockHash(bytes) === hash) return bytes;
      // A corrupted transfer is retried once; a second mismatch means the stored object is bad.
      if (attempt >= 2)
        throw new BlockIntegrityError(`block ${hash}: downloaded bytes do not match their hash`);
    }
  }

  async getRange(
    namespaceId: string,
    packId: string,
    offset: number,
    length: number,
    into?: Uint8Array,
  ): Promise<Uint8Array> {
    const { s3, bucket, sdk } = await this.s3();
    const key = packKey(namespaceId, packId);
    const response = await s3
      .send(
        new sdk.GetObjectCommand({
          Bucket: bucket,
          Key: key,
          Range: `bytes=${offset}-${offset + length - 1}`,
        }),
      )
      .catch(goneOr);
    if (!response.Body) throw new Error(`pack ${packId}: empty response body`);
    const bytes =
      into && into.byteLength >= length
        ? await readInto(response.Body as AsyncIterable<Uint8Array>, into, length)
        : await response.Body.transformToByteArray();
    if (bytes.byteLength !== length) {
      throw new StorageObjectGoneError(
        `pack ${packId}: asked ${length} bytes at ${offset}, got ${bytes.byteLength}`,
      );
    }
    return bytes;
  }

  /**
   * Fetches the storage credentials and loads the SDK now, in the background (see
   * BlockStore.prepare): a pass that found a changed file calls this while it still scans and
   * diffs, so its first PUT does not wait a round trip to auth (and STS behind it) and the SDK's
   * load after the commit phase has begun.
   */
  prepare(): void {
    this.s3().catch(() => undefined);
  }

  destroy(): void {
    void this.client?.then(
      ({ s3 }) => s3.destroy(),
      () => undefined,
    );
  }

  private s3(): Promise<S3Access> {
    this.client ??= Promise.all([this.credentials(), import('./s3-sdk')]).then(([first, sdk]) => ({
      bucket: first.bucket,
      sdk,
      s3: sdk.createS3Client(first, this.credentials, this.options),
    }));
    this.client.catch(() => {
      this.client = undefined;
    });
    return this.client;
  }
}

/** Rethrows a 404/416 as StorageObjectGoneError, anything else as it is. */
function goneOr(error: unknown): never {
  const status = httpStatus(error);
  if (status === 404 || status === 416) {
    throw new StorageObjectGoneError(`storage object gone (HTTP ${status})`, { cause: error });
  }
  throw error;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/**
 * Copies a response body into `into` (at least `length` bytes) as it arrives; returns the view of
 * what was read. Throws when the body is longer than `length` (storage ignored the range).
 */
async function readInto(
  body: AsyncIterable<Uint8Array>,
  into: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  let read = 0;
  for await (const chunk of body) {
    if (read + chunk.byteLength > length)
      throw new Error(`storage sent more than the ${length} bytes asked for`);
    into.set(chunk, read);
    read += chunk.byteLength;
  }
  return into.subarray(0, read);
}
