import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  GARBAGE_COLLECTOR_PERMISSIONS,
  SERVICE_NAMES,
  SERVICE_PERMISSIONS,
  packKey,
  type Grant,
} from '@filesync/resources';
import { as, buildPack, clientStorage, connectStubs, signUp, unary } from '@filesync/test-support';
import { readContractStack } from './support/harness';
import { httpStatus, putPackObject } from './support/storage';

// moto enforces IAM for S3, STS and SQS in this suite; DynamoDB Local and aws-ses-v2-local accept
// any key, so DynamoDB and SES grants are covered by the CDK and permissions tests instead.
//
// Each probe is a call the grant allows on the very resource the service uses, shaped so that an
// allowed call changes nothing the services rely on (a missing key, an invalid receipt handle, an
// out-of-range batch size): moto checks IAM first, so 403 means denied and any other answer allowed.

const stack = readContractStack();
type Verdict = 'allowed' | 'denied';

const AWS_ERROR_TIMEOUT = { abortSignal: AbortSignal.timeout(10_000) };

async function verdict(call: Promise<unknown>): Promise<Verdict> {
  try {
    await call;
    return 'allowed';
  } catch (error) {
    if (httpStatus(error) === 403) return 'denied';
    if (httpStatus(error) === undefined) throw error;
    return 'allowed';
  }
}

function clientsOf(credentials: { accessKeyId: string; secretAccessKey: string }) {
  const config = {
    region: stack.resources.region,
    endpoint: stack.emulators.moto,
    credentials,
    maxAttempts: 1,
  };
  return {
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sqs: new SQSClient(config),
    sts: new STSClient(config),
    destroy() {
      this.s3.destroy();
      this.sqs.destroy();
      this.sts.destroy();
    },
  };
}

type Clients = ReturnType<typeof clientsOf>;
const probeKey = 'ns/contract-probe/blocks/0000000000000000000000000000000000000000000000000000000000000000';

const PROBES: Readonly<Record<string, (clients: Clients) => Promise<unknown>>> = {
  's3:GetObject': ({ s3 }) =>
    s3.send(new GetObjectCommand({ Bucket: stack.resources.bucket, Key: probeKey }), AWS_ERROR_TIMEOUT),
  's3:PutObject': ({ s3 }) =>
    s3.send(
      new PutObjectCommand({
        Bucket: stack.resources.bucket,
        Key: probeKey,
        Body: 'probe',
        IfNoneMatch: '*',
      }),
      AWS_ERROR_TIMEOUT,
    ),
  // A prefix without '/': moto miscomputes the signature of an encoded '/' in the query string.
  's3:ListBucket': ({ s3 }) =>
    s3.send(
      new ListObjectsV2Command({ Bucket: stack.resources.bucket, Prefix: 'ns', MaxKeys: 1 }),
      AWS_ERROR_TIMEOUT,
    ),
  // Deletes only the probe key (the PutObject probe's object, when that was allowed too).
  's3:DeleteObject': ({ s3 }) =>
    s3.send(new DeleteObjectCommand({ Bucket: stack.resources.bucket, Key: probeKey }), AWS_ERROR_TIMEOUT),
  // A delay over 900 s is invalid: allowed means 400, never a message on the queue.
  'sqs:SendMessage': ({ sqs }) =>
    sqs.send(
      new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: '{}', DelaySeconds: 901 }),
      AWS_ERROR_TIMEOUT,
    ),
  // More than 10 is invalid: allowed means 400, never a message taken from the notifier.
  'sqs:ReceiveMessage': ({ sqs }) =>
    sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.resources.queueUrl, MaxNumberOfMessages: 11 }),
      AWS_ERROR_TIMEOUT,
    ),
  'sqs:DeleteMessage': ({ sqs }) =>
    sqs.send(
      new DeleteMessageCommand({ QueueUrl: stack.resources.queueUrl, ReceiptHandle: 'not-a-receipt-handle' }),
      AWS_ERROR_TIMEOUT,
    ),
  'sts:AssumeRole': ({ sts }) =>
    sts.send(
      new AssumeRoleCommand({ RoleArn: stack.resources.storageRoleArn, RoleSessionName: 'contract-probe' }),
      AWS_ERROR_TIMEOUT,
    ),
};

function expectedVerdicts(grants: readonly Grant[]): Record<string, Verdict> {
  // The SQS probes act on the notifier's queue: a grant on a metadata task's own watch queues
  // (or the push topic) must not let them through.
  const probed = grants.filter(
    (grant) => grant.on.kind !== 'task-queues' && grant.on.kind !== 'advance-topic',
  );
  const granted = new Set(probed.flatMap((grant) => grant.actions));
  return Object.fromEntries(
    Object.keys(PROBES).map((action) => [action, granted.has(action) ? 'allowed' : 'denied']),
  );
}

describe('each service container holds only its task role permissions (moto IAM on)', () => {
  async function expectExactly(
    credentials: { accessKeyId: string; secretAccessKey: string },
    grants: readonly Grant[],
  ): Promise<void> {
    const clients = clientsOf(credentials);
    try {
      const actual: Record<string, Verdict> = {};
      for (const [action, probe] of Object.entries(PROBES)) actual[action] = await verdict(probe(clients));
      expect(actual).toEqual(expectedVerdicts(grants));
      // Object grants stop at the namespace prefix.
      const outside = clients.s3.send(
        new GetObjectCommand({ Bucket: stack.resources.bucket, Key: 'outside/namespaces' }),
        AWS_ERROR_TIMEOUT,
      );
      expect(await verdict(outside)).toBe('denied');
    } finally {
      clients.destroy();
    }
  }

  test.each(SERVICE_NAMES)(
    '%s: S3, SQS and STS allow exactly what SERVICE_PERMISSIONS grants',
    async (service) => {
      const env = stack.environments[service];
      await expectExactly(
        {
          accessKeyId: env.AWS_ACCESS_KEY_ID as string,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
        },
        SERVICE_PERMISSIONS[service],
      );
    },
  );

  test('the garbage collector: S3, SQS and STS allow exactly what GARBAGE_COLLECTOR_PERMISSIONS grants', async () => {
    // The only principal that may delete objects; no queue, no storage role.
    expect(expectedVerdicts(GARBAGE_COLLECTOR_PERMISSIONS)).toMatchObject({
      's3:DeleteObject': 'allowed',
      'sqs:SendMessage': 'denied',
      'sts:AssumeRole': 'denied',
    });
    await expectExactly(stack.collector, GARBAGE_COLLECTOR_PERMISSIONS);
  });

  test('the four containers sign with four different access keys', () => {
    const keys = SERVICE_NAMES.map((service) => stack.environments[service].AWS_ACCESS_KEY_ID);
    expect(new Set(keys).size).toBe(4);
  });

  test('an unknown access key is refused', async () => {
    const clients = clientsOf({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'unknown' });
    try {
      expect(await verdict(PROBES['s3:GetObject']?.(clients) ?? Promise.resolve())).toBe('denied');
    } finally {
      clients.destroy();
    }
  });

  test('storage credentials from GetStorageCredentials read and write packs, nothing else: no delete, no list', async () => {
    const stubs = connectStubs(stack);
    try {
      const session = await signUp(stubs, 'storage-probe');
      const grant = await unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, as(session));
      const s3 = clientStorage(grant);
      const sts = new STSClient({
        region: grant.region,
        endpoint: stack.emulators.moto,
        credentials: {
          accessKeyId: grant.accessKeyId,
          secretAccessKey: grant.secretAccessKey,
          sessionToken: grant.sessionToken,
        },
        maxAttempts: 1,
      });
      const clients = { s3, sqs: new SQSClient({ region: grant.region }), sts } as unknown as Clients;
      try {
        const pack = buildPack([Buffer.from('a block of the probe')]);
        const own = packKey(session.rootNamespaceId, pack.packId);
        expect(own.startsWith(grant.prefixes[0]?.keyPrefix ?? '?')).toBe(true);
        expect(await putPackObject(s3, grant.bucket, session.rootNamespaceId, pack)).toBe('uploaded');
        const read = s3.send(new GetObjectCommand({ Bucket: grant.bucket, Key: own }), AWS_ERROR_TIMEOUT);
        expect(await verdict(read)).toBe('allowed');
        // Only the collector deletes: a client cannot remove its own pack, nor anything else.
        const deletion = s3.send(
          new DeleteObjectCommand({ Bucket: grant.bucket, Key: own }),
          AWS_ERROR_TIMEOUT,
        );
        expect(await verdict(deletion)).toBe('denied');
        const head = await s3.send(
          new HeadObjectCommand({ Bucket: grant.bucket, Key: own }),
          AWS_ERROR_TIMEOUT,
        );
        expect(head.ContentLength).toBe(pack.size);
        expect(await verdict(PROBES['s3:ListBucket']?.(clients) ?? Promise.resolve())).toBe('denied');
        expect(await verdict(PROBES['sts:AssumeRole']?.(clients) ?? Promise.resolve())).toBe('denied');
        const outside = s3.send(
          new PutObjectCommand({ Bucket: grant.bucket, Key: 'outside/namespaces', Body: 'x' }),
          AWS_ERROR_TIMEOUT,
        );
        expect(await verdict(outside)).toBe('denied');
      } finally {
        s3.destroy();
        sts.destroy();
      }
    } finally {
      stubs.close();
    }
  });
});
