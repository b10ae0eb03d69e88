// Unit tier: real SDK error objects, a real S3 client aimed at dead local endpoints, and a real
// grpc-js server on 127.0.0.1:0 reached by a raw client that sends hand-encoded bytes.
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import {
  ConditionalCheckFailedException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { metadata, syncdiff } from '@filesync/contracts';
import pino from 'pino';
import { AWS_MAX_ATTEMPTS, awsClientConfig } from '../aws';
import { createLogger } from '../logger';
import { createMetrics } from '../metrics';
import { implement } from './implement';
import { startGrpcService, type RunningService } from './server';
import { toStatus } from './status';

const logger = createLogger('test', 'silent');

/** Log lines at `warn` (40) or above, which an operator is paged or alarmed by. */
const alarming: { level: number; msg: string }[] = [];
const watchedLogger = pino(
  { level: 'debug' },
  {
    write: (line: string) => {
      const entry = JSON.parse(line) as { level: number; msg: string };
      if (entry.level >= 40) alarming.push(entry);
    },
  },
);

/** A 127.0.0.1 port nothing listens on: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function s3At(endpoint: string, requestTimeoutMs?: number): S3Client {
  return new S3Client({
    ...awsClientConfig('us-east-1', requestTimeoutMs),
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

async function rejectionOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('kind 11: transient AWS failures reach the client as UNAVAILABLE', () => {
  const $metadata = (httpStatusCode: number) => ({ httpStatusCode, attempts: AWS_MAX_ATTEMPTS });

  it.each([
    [
      'S3 SlowDown (503)',
      new S3ServiceException({
        name: 'SlowDown',
        $fault: 'server',
        $metadata: $metadata(503),
        message: 'slow',
      }),
    ],
    [
      'DynamoDB throughput exceeded',
      new ProvisionedThroughputExceededException({ message: 'too fast', $metadata: $metadata(400) }),
    ],
    [
      'DynamoDB internal error (500)',
      new InternalServerError({ message: 'oops', $metadata: $metadata(500) }),
    ],
    [
      'a transaction cancelled by a concurrent one',
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: $metadata(400),
        CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
      }),
    ],
    [
      'S3 internal error (500) without a modelled name',
      new S3ServiceException({
        name: 'InternalError',
        $fault: 'server',
        $metadata: $metadata(500),
        message: '',
      }),
    ],
    [
      'a connection timeout of the HTTP handler',
      Object.assign(new Error('the request socket did not establish a connection'), { name: 'TimeoutError' }),
    ],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('%s', (_name, error) => {
    const mapped = toStatus(error, logger);
    expect(mapped.code).toBe(status.UNAVAILABLE);
    expect(mapped.metadata?.get('filesync-retry-after-ms')).toEqual(['1000']);
  });

  it.each([
    [
      'a failed condition nobody handled',
      new ConditionalCheckFailedException({ message: 'no', $metadata: $metadata(400) }),
    ],
    ['a missing table', new ResourceNotFoundException({ message: 'no table', $metadata: $metadata(400) })],
    [
      'S3 access denied (403)',
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: $metadata(403),
        message: '',
      }),
    ],
    [
      'a transaction cancelled by a failed condition',
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: $metadata(400),
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
      }),
    ],
    ['a bug', new TypeError('undefined is not a function')],
  ])('but %s stays INTERNAL', (_name, error) => {
    expect(toStatus(error, logger)).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
  });

  it('retries a refused connection the configured number of times, then answers UNAVAILABLE', async () => {
    const s3 = s3At(`http://127.0.0.1:${await closedPort()}`);
    try {
      const error = await rejectionOf(s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' })));
      expect((error as { $metadata?: { attempts?: number } }).$metadata?.attempts).toBe(AWS_MAX_ATTEMPTS);
      expect(toStatus(error, logger).code).toBe(status.UNAVAILABLE);
    } finally {
      s3.destroy();
    }
  });

  it('gives up on an endpoint that accepts the request but never answers, and answers UNAVAILABLE', async () => {
    // Before throwOnRequestTimeout, the SDK only logged a warning here and waited for ever.
    const silent: HttpServer = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const s3 = s3At(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, 200);
    try {
      const error = await rejectionOf(s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' })));
      expect(error).toMatchObject({ name: 'TimeoutError' });
      expect(toStatus(error, logger).code).toBe(status.UNAVAILABLE);
    } finally {
      s3.destroy();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('kind 11: requests the server cannot decode answer INVALID_ARGUMENT, and a dead S3 answers UNAVAILABLE', () => {
  let service: RunningService;
  let raw: Client;
  let deadS3: S3Client;
  const handled: string[] = [];

  beforeAll(async () => {
    deadS3 = s3At(`http://127.0.0.1:${await closedPort()}`);
    const metrics = createMetrics('test');
    // One method of the real metadata definition: DeleteFileRequest carries an int64.
    const deleteOnly = { deleteFile: metadata.MetadataServiceService.deleteFile };
    service = await startGrpcService({
      serviceName: 'test',
      settings: { host: '127.0.0.1', port: 0, metricsPort: 0, shutdownGraceMs: 1_000, drainDelayMs: 0 },
      logger,
      metrics,
      services: [
        {
          name: 'filesync.metadata.v1.MetadataService',
          definition: deleteOnly,
          implementation: implement(
            deleteOnly,
            {
              async deleteFile(request) {
                handled.push(`delete:${request.baseVersion}`);
                // A handler whose storage is down: the S3 client retries, then gives up.
                await deadS3.send(new HeadObjectCommand({ Bucket: 'b', Key: request.path }));
                return { entry: undefined, cursor: 0 };
              },
            },
            { logger, metrics },
          ),
        },
        {
          name: 'filesync.syncdiff.v1.SyncDiffService',
          definition: syncdiff.SyncDiffServiceService,
          implementation: implement(
            syncdiff.SyncDiffServiceService,
            {
              async *diff(requests) {
                let count = 0;
                for await (const request of requests) {
                  if (request.message?.$case === 'entry')
                    handled.push(`entry:${request.message.value.baseVersion}`);
                  count += 1;
                }
                yield {
                  message: {
                    $case: 'summary',
                    value: {
                      cursor: 0,
                      entriesReceived: count,
                      actionsSent: 0,
                      fullDiffRequired: false,
                      incremental: false,
                      remoteRoot: '',
                      resumeAfter: '',
                    },
                  },
                };
              },
              async findMissingBlocks() {
                return { missingBlockHashes: [] };
              },
            },
            { logger: watchedLogger, metrics },
          ),
        },
      ],
    });
    raw = new Client(`127.0.0.1:${service.port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    raw.close();
    deadS3.destroy();
    await service.shutdown('test done');
  });

  const identity = (bytes: Buffer) => bytes;
  const deadline = () => ({ deadline: Date.now() + 30_000 });

  /** Varint of 2^53: seven groups of zero bits, then bit 53 (= bit 4 of the eighth group). */
  const TWO_POW_53 = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
  const field = (tag: number, body: number[]) => [tag, body.length, ...body];
  const text = (value: string) => [...Buffer.from(value)];

  function unaryRaw(path: string, bytes: number[]): Promise<ServiceError | Buffer> {
    return new Promise((resolve) =>
      raw.makeUnaryRequest(
        path,
        identity,
        identity,
        Buffer.from(bytes),
        new Metadata(),
        deadline(),
        (error, value) => resolve(error ?? (value as Buffer)),
      ),
    );
  }

  it('a unary request with an int64 field of 2^53', async () => {
    // DeleteFileRequest { namespace_id (1) = "ns", path (2) = "a", base_version (3) = 2^53 }
    const bytes = [...field(0x0a, text('ns')), ...field(0x12, text('a')), 0x18, ...TWO_POW_53];
    const answer = await unaryRaw('/filesync.metadata.v1.MetadataService/DeleteFile', bytes);
    expect(answer).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((answer as ServiceError).details).toMatch(/2\^53/);
    expect(handled).not.toContain(`delete:${2 ** 53}`);
  });

  it('a unary request that is no protobuf message', async () => {
    const answer = await unaryRaw('/filesync.metadata.v1.MetadataService/DeleteFile', [0x0a, 0x7f, 0x61]);
    expect(answer).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('a stream whose last message carries an int64 field of 2^53', async () => {
    const call = raw.makeBidiStreamRequest(
      '/filesync.syncdiff.v1.SyncDiffService/Diff',
      identity,
      identity,
      new Metadata(),
      deadline(),
    );
    const ended = new Promise<{ code: status; details: string }>((resolve) => call.on('status', resolve));
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    // DiffRequest { start (1) = { namespace_id = "ns" } }, then { entry (2) = { path "a", base_version 2^53 } }
    call.write(Buffer.from(field(0x0a, field(0x0a, text('ns')))));
    call.write(Buffer.from(field(0x12, [...field(0x0a, text('a')), 0x20, ...TWO_POW_53])));
    call.end();
    expect(await ended).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('a handler whose S3 endpoint is down', async () => {
    const request = metadata.DeleteFileRequest.encode({
      namespaceId: 'ns',
      path: 'a',
      baseVersion: 1,
      confirmMassDelete: false,
    }).finish();
    const answer = await unaryRaw('/filesync.metadata.v1.MetadataService/DeleteFile', [...request]);
    expect(answer).toMatchObject({ code: status.UNAVAILABLE });
    expect((answer as ServiceError).metadata.get('filesync-retry-after-ms')).toEqual(['1000']);
  });

  it('a stream that ends with a malformed frame is answered INVALID_ARGUMENT and logged at debug only', async () => {
    alarming.length = 0;
    const call = raw.makeBidiStreamRequest(
      '/filesync.syncdiff.v1.SyncDiffService/Diff',
      identity,
      identity,
      new Metadata(),
      deadline(),
    );
    const ended = new Promise<{ code: status }>((resolve) => call.on('status', resolve));
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    call.write(Buffer.from(field(0x0a, field(0x0a, text('ns')))));
    // An `entry` field that claims 127 bytes and brings one.
    call.write(Buffer.from([0x12, 0x7f, 0x01]));
    call.end();
    expect(await ended).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(alarming).toEqual([]);
  });
});
