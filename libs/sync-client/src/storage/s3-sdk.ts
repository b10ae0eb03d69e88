// The AWS SDK as S3BlockStore uses it, in a module of its own that the store imports when it first
// moves bytes: a command or a pass that moves none never loads the SDK (about a megabyte of
// JavaScript in the CLI's bundle). Its own module, not a dynamic import of the SDK's packages:
// those are CommonJS, whose named exports a bundle's chunk does not re-export.
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { trustedRoots } from '@filesync/contracts';
import type { S3BlockStoreOptions } from './block-store';
import type { StorageCredentials } from './storage-credentials';

export { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';

/**
 * A client of the bucket, region and endpoint of `first` (they do not change), asking
 * `credentials` for fresh keys on every request.
 */
export function createS3Client(
  first: StorageCredentials,
  credentials: () => Promise<StorageCredentials>,
  options: S3BlockStoreOptions,
): S3Client {
  return new S3Client({
    region: first.region,
    ...(first.endpoint ? { endpoint: first.endpoint } : {}),
    forcePathStyle: first.forcePathStyle,
    maxAttempts: 3,
    // We verify SHA-256 of every block ourselves; extra CRC checksums would only cost CPU.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler:
      options.requestHandler ??
      new NodeHttpHandler({
        connectionTimeout: 5_000,
        requestTimeout: options.requestTimeoutMs ?? 120_000,
        // The roots gRPC trusts (system store and --ca), for an https endpoint; AWS's own is https.
        ...(first.endpoint?.startsWith('http:') ? {} : { httpsAgent: { ca: trustedRoots(options.extraCa) } }),
      }),
    credentials: async () => {
      const current = await credentials();
      return {
        accessKeyId: current.accessKeyId,
        secretAccessKey: current.secretAccessKey,
        sessionToken: current.sessionToken,
        expiration: new Date(current.expiresAtMs),
      };
    },
  });
}
