import { Readable } from 'node:stream';
import { blockHash } from '@filesync/sync-core';
import { BlockIntegrityError, S3BlockStore } from './block-store';
import type { StorageCredentials } from './storage-credentials';

/**
 * A fake of S3's HTTP surface plugged in as the SDK's request handler (no network): PUT with
 * If-None-Match answers 412 when the key exists, GET returns stored bytes, optionally corrupted.
 */
class FakeS3 {
  readonly objects = new Map<string, Buffer>();
  readonly requests: {
    method: string;
    path: string;
    ifNoneMatch: string | undefined;
    payloadSha256: string | undefined;
  }[] = [];
  corruptNextGets = 0;

  async handle(request: { method: string; path: string; headers: Record<string, string>; body?: unknown }) {
    this.requests.push({
      method: request.method,
      path: request.path,
      ifNoneMatch: request.headers['if-none-match'],
      payloadSha256: request.headers['x-amz-content-sha256'],
    });
    if (request.method === 'PUT') {
      if (request.headers['if-none-match'] === '*' && this.objects.has(request.path)) {
        return respond(
          412,
          xmlError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'),
        );
      }
      this.objects.set(request.path, Buffer.from(request.body as Uint8Array));
      return respond(200, Buffer.alloc(0), { etag: '"x"' });
    }
    const stored = this.objects.get(request.path);
    if (!stored) return respond(404, xmlError('NoSuchKey', 'The specified key does not exist.'));
    const body = this.corruptNextGets-- > 0 ? Buffer.from('garbage') : stored;
    return respond(200, body, { 'content-length': String(body.length) });
  }
}

function respond(statusCode: number, body: Buffer, headers: Record<string, string> = {}) {
  return {
    response: {
      statusCode,
      headers: { 'content-type': 'application/xml', ...headers },
      body: Readable.from([body]),
    },
  };
}

function xmlError(code: string, message: string): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

const credentials: StorageCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'secret',
  sessionToken: 'token',
  expiresAtMs: Date.now() + 15 * 60_000,
  bucket: 'blocks',
  region: 'us-east-1',
  endpoint: 'http://s3.fake.invalid',
  prefixes: [],
  forcePathStyle: true,
};

describe('S3BlockStore', () => {
  const bytes = Buffer.from('block bytes');
  const hash = blockHash(bytes);

  function store(fake: FakeS3) {
    return new S3BlockStore(async () => credentials, {
      requestHandler: { handle: (request: never) => fake.handle(request) } as never,
    });
  }

  it('writes with If-None-Match and treats 412 (already stored) as success', async () => {
    const fake = new FakeS3();
    const blocks = store(fake);
    expect(await blocks.put('ns-1', hash, bytes)).toBe('uploaded');
    expect(await blocks.put('ns-1', hash, bytes)).toBe('exists');
    expect(fake.requests.map((request) => request.ifNoneMatch)).toEqual(['*', '*']);
    expect(fake.requests[0]!.path).toBe(`/blocks/ns/ns-1/blocks/${hash}`);
  });

  it('signs the name it was given as the payload SHA-256 instead of hashing the body again', async () => {
    const fake = new FakeS3();
    const blocks = store(fake);
    await blocks.put('ns-1', hash, bytes);
    // A name that is not the bytes' hash goes out as is: S3 then refuses the body (real S3 checks it).
    const packId = 'f'.repeat(64);
    await blocks.putPack('ns-1', packId, bytes);
    expect(fake.requests.map((request) => request.payloadSha256)).toEqual([hash, packId]);
  });

  it('verifies downloaded bytes, retrying a corrupted transfer once', async () => {
    const fake = new FakeS3();
    const blocks = store(fake);
    await blocks.put('ns-1', hash, bytes);
    fake.corruptNextGets = 1;
    expect(Buffer.from(await blocks.get('ns-1', hash)).toString()).toBe('block bytes');
    fake.corruptNextGets = 2;
    await expect(blocks.get('ns-1', hash)).rejects.toThrow(BlockIntegrityError);
  });

  it('prepare fetches credentials once ahead of the first transfer, which then reuses them', async () => {
    const fake = new FakeS3();
    let fetched = 0;
    const blocks = new S3BlockStore(
      async () => {
        fetched++;
        return credentials;
      },
      { requestHandler: { handle: (request: never) => fake.handle(request) } as never },
    );
    blocks.prepare();
    blocks.prepare();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fetched).toBe(1);
    expect(fake.requests).toEqual([]);
    expect(await blocks.put('ns-1', hash, bytes)).toBe('uploaded');
    // The SDK asks the provider for keys per request; the client itself was built once.
    expect(fake.requests).toHaveLength(1);
  });

  it('a prepare that fails is silent, and the next transfer tries again and reports its own failure', async () => {
    const fake = new FakeS3();
    let attempts = 0;
    const blocks = new S3BlockStore(
      async () => {
        attempts++;
        if (attempts === 1) throw new Error('auth unreachable');
        return credentials;
      },
      { requestHandler: { handle: (request: never) => fake.handle(request) } as never },
    );
    blocks.prepare();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await blocks.put('ns-1', hash, bytes)).toBe('uploaded');
    expect(attempts).toBeGreaterThanOrEqual(2);
  });
});
