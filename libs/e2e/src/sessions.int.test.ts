import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { packKey } from '@filesync/resources';
import { blockHash, contentHash } from '@filesync/sync-core';
import {
  buildPack,
  CALL_TIMEOUT_MS,
  connectStubs,
  packMessage,
  signUp,
  statusOf,
  type Stubs,
  TEST_PASSWORD,
  unary,
} from '@filesync/test-support';
import { readTestStack } from './support/harness';

// Real services and emulators: calls take seconds, not the unit tier's milliseconds.

const stack = readTestStack();

// Accounts, sessions and storage credentials, through the generated stubs only.
describe('sessions and storage credentials', () => {
  let stubs: Stubs;
  beforeAll(() => {
    stubs = connectStubs(stack);
  });
  afterAll(() => stubs?.close());

  const noToken = { timeoutMs: CALL_TIMEOUT_MS };

  test('an email signs up once; a wrong password is UNAUTHENTICATED', async () => {
    const session = await signUp(stubs, 'once');
    const again = () =>
      unary(
        stubs.auth.signUp.bind(stubs.auth),
        { email: session.email, password: TEST_PASSWORD, deviceName: 'x' },
        noToken,
      );
    expect(await statusOf(again)).toBe('ALREADY_EXISTS');
    const wrong = () =>
      unary(
        stubs.auth.login.bind(stubs.auth),
        { email: session.email, password: `${TEST_PASSWORD}!`, deviceName: 'x' },
        noToken,
      );
    expect(await statusOf(wrong)).toBe('UNAUTHENTICATED');

    const login = await unary(
      stubs.auth.login.bind(stubs.auth),
      { email: session.email, password: TEST_PASSWORD, deviceName: 'second' },
      noToken,
    );
    expect(login.session?.userId).toBe(session.userId);
    expect(login.session?.rootNamespaceId).toBe(session.rootNamespaceId);
    expect(login.session?.deviceId).not.toBe(session.deviceId);
    const devices = await unary(
      stubs.auth.listDevices.bind(stubs.auth),
      {},
      { timeoutMs: CALL_TIMEOUT_MS, accessToken: session.accessToken },
    );
    expect(devices.devices.map((device) => device.name).sort()).toEqual(['once-device', 'second']);
  });

  test('refresh tokens rotate, and reusing a spent one revokes the chain', async () => {
    const session = await signUp(stubs, 'refresh');
    const refresh = (refreshToken: string) =>
      unary(stubs.auth.refreshSession.bind(stubs.auth), { refreshToken }, noToken);

    const next = (await refresh(session.refreshToken)).session;
    expect(next?.refreshToken).toBeDefined();
    expect(next?.refreshToken).not.toBe(session.refreshToken);

    expect(await statusOf(() => refresh(session.refreshToken))).toBe('UNAUTHENTICATED');
    // The reuse looked like theft: the token issued after the spent one is revoked too.
    expect(await statusOf(() => refresh(next?.refreshToken ?? ''))).toBe('UNAUTHENTICATED');
  });

  test('a session renewal records when the device was last seen (ListDevices)', async () => {
    const session = await signUp(stubs, 'last-seen');
    const listed = async (accessToken: string) =>
      (await unary(stubs.auth.listDevices.bind(stubs.auth), {}, { timeoutMs: CALL_TIMEOUT_MS, accessToken }))
        .devices[0]!;
    const before = await listed(session.accessToken);
    expect(before.lastSeenAtMs).toBe(before.createdAtMs);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next = (
      await unary(stubs.auth.refreshSession.bind(stubs.auth), { refreshToken: session.refreshToken }, noToken)
    ).session!;
    const after = await listed(next.accessToken);
    expect(after.lastSeenAtMs).toBeGreaterThan(before.lastSeenAtMs);
    expect(after.createdAtMs).toBe(before.createdAtMs);
  });

  test('storage credentials name the namespace prefix and move block bytes to and from S3', async () => {
    const session = await signUp(stubs, 'storage');
    const credentials = await unary(
      stubs.auth.getStorageCredentials.bind(stubs.auth),
      {},
      { timeoutMs: CALL_TIMEOUT_MS, accessToken: session.accessToken },
    );
    expect(credentials.prefixes).toEqual([
      { namespaceId: session.rootNamespaceId, keyPrefix: `ns/${session.rootNamespaceId}/` },
    ]);
    expect(credentials.expiresAtMs).toBeGreaterThan(Date.now());

    const s3 = new S3Client({
      region: credentials.region,
      endpoint: credentials.endpoint || undefined,
      forcePathStyle: credentials.forcePathStyle,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
    });
    try {
      const block = randomBytes(4096);
      const hash = blockHash(block);
      // Blocks travel in packs: one object the client writes, then registers (issue 7).
      const pack = buildPack([block]);
      const key = packKey(session.rootNamespaceId, pack.packId);
      await s3.send(
        new PutObjectCommand({
          Bucket: credentials.bucket,
          Key: key,
          Body: Buffer.concat(pack.parts),
          IfNoneMatch: '*',
        }),
      );
      const fetched = await s3.send(
        new GetObjectCommand({ Bucket: credentials.bucket, Key: key, Range: `bytes=0-${block.length - 1}` }),
      );
      const bytes = await fetched.Body?.transformToByteArray();
      expect(Buffer.from(bytes ?? []).equals(block)).toBe(true);

      const auth = { timeoutMs: CALL_TIMEOUT_MS, accessToken: session.accessToken };
      await unary(
        stubs.metadata.registerPacks.bind(stubs.metadata),
        { namespaceId: session.rootNamespaceId, packs: [packMessage(pack)] },
        auth,
      );
      const missing = await unary(
        stubs.syncDiff.findMissingBlocks.bind(stubs.syncDiff),
        { namespaceId: session.rootNamespaceId, blockHashes: [hash, blockHash(randomBytes(8))] },
        auth,
      );
      expect(missing.missingBlockHashes).toHaveLength(1);
      expect(missing.missingBlockHashes).not.toContain(hash);

      const committed = await unary(
        stubs.metadata.commitFile.bind(stubs.metadata),
        {
          confirmMassDelete: false,
          namespaceId: session.rootNamespaceId,
          change: {
            path: 'uploaded.bin',
            baseVersion: 0,
            content: { contentHash: contentHash([hash]), size: block.length, blockHashes: [hash] },
            delete: false,
            moveFrom: '',
            moveFromBaseVersion: 0,
            modifiedAtMs: Date.now(),
          },
        },
        auth,
      );
      expect(committed.entry).toMatchObject({ path: 'uploaded.bin', version: 1, deleted: false });
      expect(committed.entry?.content?.blockHashes).toEqual([hash]);
    } finally {
      s3.destroy();
    }
  });
});
