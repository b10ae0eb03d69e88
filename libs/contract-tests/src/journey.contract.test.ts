import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { callMetadata, syncdiff, type auth, type common, type metadata } from '@filesync/contracts';
import { namespaceKeyPrefix, packKey } from '@filesync/resources';
import { blockHash, type BuiltPack } from '@filesync/sync-core';
import {
  as,
  buildPack,
  clientStorage,
  callError,
  connectStubs,
  deadline,
  exchange,
  packMessage,
  signUp,
  signUpVerified,
  type Stubs,
  TEST_PASSWORD,
  trailer,
  unary,
  uniqueEmail,
  waitForMail,
} from '@filesync/test-support';
import { readContractStack } from './support/harness';
import { fileOf, putPackObject, readPackedBlock, s3FailureStatus } from './support/storage';

// The four service images under testcontainers, driven only through the generated stubs and S3,
// as a native client would. The steps build on each other, so they run in order within this file.
describe('a native client syncs a folder between two devices', () => {
  const stack = readContractStack();
  const email = uniqueEmail('journey');
  const files = {
    plan: { path: 'docs/plan.md', ...fileOf([randomBytes(70_000), randomBytes(30_000)]) },
    notes: { path: 'docs/notes.txt', ...fileOf([randomBytes(5_000)]) },
    photo: { path: 'photos/a.bin', ...fileOf([randomBytes(120_000), randomBytes(1_000)]) },
  };
  let stubs: Stubs;
  let laptop: auth.Session;
  let desktop: auth.Session;
  let laptopS3: S3Client;
  let bucket: string;
  let pack: BuiltPack;
  let cursor = 0;
  const committed: Record<string, common.FileEntry> = {};

  const ns = () => laptop.rootNamespaceId;
  const change = (path: string, content: common.FileContent, baseVersion: number): metadata.FileChange => ({
    path,
    baseVersion,
    content,
    delete: false,
    moveFrom: '',
    moveFromBaseVersion: 0,
    modifiedAtMs: Date.now(),
  });
  const registerPacks = (session: auth.Session, packs: readonly BuiltPack[]) =>
    unary(
      stubs.metadata.registerPacks.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, packs: packs.map(packMessage) },
      as(session),
    );
  /** A later upload from the laptop: one new pack, written and registered. */
  const upload = async (blocks: readonly Uint8Array[]) => {
    const built = buildPack(blocks);
    expect(await putPackObject(laptopS3, bucket, ns(), built)).toBe('uploaded');
    expect(await registerPacks(laptop, [built])).toEqual({
      blocksIndexed: blocks.length,
      blocksAlreadyIndexed: 0,
    });
  };
  const diff = (session: auth.Session, entries: syncdiff.ManifestEntry[]) =>
    exchange(stubs.syncDiff.diff(callMetadata(session.accessToken), deadline()), [
      {
        message: {
          $case: 'start' as const,
          value: { namespaceId: session.rootNamespaceId, sinceCursor: 0, remoteRoot: '', resumeAfter: '' },
        },
      },
      ...entries.map((value) => ({ message: { $case: 'entry' as const, value } })),
    ]);

  beforeAll(() => {
    stubs = connectStubs(stack);
  });

  afterAll(() => {
    laptopS3?.destroy();
    stubs?.close();
  });

  test('SignUp on the laptop, Login on the desktop: one account, two devices', async () => {
    // Verified: the journey follows a folder, and notifications need a confirmed address.
    laptop = await signUpVerified(stubs, stack.emulators.ses, 'laptop', email);
    const login = await unary(
      stubs.auth.login.bind(stubs.auth),
      { email, password: TEST_PASSWORD, deviceName: 'desktop' },
      as(),
    );
    desktop = login.session as auth.Session;

    expect(desktop.userId).toBe(laptop.userId);
    expect(desktop.rootNamespaceId).toBe(laptop.rootNamespaceId);
    expect(desktop.deviceId).not.toBe(laptop.deviceId);
    expect(desktop.email).toBe(email);
    for (const session of [laptop, desktop]) {
      expect(session.accessToken.split('.')).toHaveLength(3);
      expect(session.refreshToken).not.toBe('');
      expect(session.accessTokenExpiresAtMs).toBeGreaterThan(Date.now());
      expect(session.refreshTokenExpiresAtMs).toBeGreaterThan(session.accessTokenExpiresAtMs);
    }
  });

  test('GetStorageCredentials: blocks go straight to S3 in one pack, written once (If-None-Match), then RegisterPacks', async () => {
    const grant = await unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, as(laptop));
    expect(grant).toMatchObject({
      bucket: stack.resources.bucket,
      region: stack.resources.region,
      endpoint: stack.emulators.moto,
      forcePathStyle: true,
      prefixes: [{ namespaceId: ns(), keyPrefix: namespaceKeyPrefix(ns()) }],
    });
    expect(grant.sessionToken).not.toBe('');
    expect(grant.expiresAtMs).toBeGreaterThan(Date.now());
    bucket = grant.bucket;
    laptopS3 = clientStorage(grant);

    const allHashes = Object.values(files).flatMap((file) => file.content.blockHashes);
    const findMissing = async () =>
      (
        await unary(
          stubs.metadata.findMissingBlocks.bind(stubs.metadata),
          { namespaceId: ns(), blockHashes: allHashes },
          as(laptop),
        )
      ).missingBlockHashes;
    const before = await unary(
      stubs.syncDiff.findMissingBlocks.bind(stubs.syncDiff),
      { namespaceId: ns(), blockHashes: allHashes },
      as(laptop),
    );
    expect(before.missingBlockHashes).toEqual(allHashes);

    pack = buildPack(Object.values(files).flatMap((file) => file.blocks));
    expect(await putPackObject(laptopS3, bucket, ns(), pack)).toBe('uploaded');
    // The same pack again: S3 answers 412, the stored copy stays.
    expect(await putPackObject(laptopS3, bucket, ns(), pack)).toBe('exists');
    // Written is not yet known: a block exists for commits once its pack is registered.
    expect(await findMissing()).toEqual(allHashes);

    expect(await registerPacks(laptop, [pack])).toEqual({
      blocksIndexed: allHashes.length,
      blocksAlreadyIndexed: 0,
    });
    // Idempotent: a retried registration indexes nothing twice.
    expect(await registerPacks(laptop, [pack])).toEqual({
      blocksIndexed: 0,
      blocksAlreadyIndexed: allHashes.length,
    });
    expect(await findMissing()).toEqual([]);
  });

  test('RegisterPacks of a pack not in storage: FAILED_PRECONDITION with filesync-missing-packs, nothing indexed', async () => {
    const unsent = buildPack([randomBytes(4_000), randomBytes(6_000)]);
    const error = await callError(registerPacks(laptop, [unsent]));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(trailer(error, 'filesync-missing-packs')).toBe(unsent.packId);
    const { missingBlockHashes } = await unary(
      stubs.metadata.findMissingBlocks.bind(stubs.metadata),
      { namespaceId: ns(), blockHashes: unsent.entries.map((entry) => entry.hash) },
      as(laptop),
    );
    expect(missingBlockHashes).toEqual(unsent.entries.map((entry) => entry.hash));

    // Stored with another size than the one claimed: refused the same way.
    const error2 = await callError(
      unary(
        stubs.metadata.registerPacks.bind(stubs.metadata),
        { namespaceId: ns(), packs: [{ ...packMessage(pack), size: pack.size + 1 }] },
        as(laptop),
      ),
    );
    expect(error2.code).toBe(status.FAILED_PRECONDITION);
    expect(trailer(error2, 'filesync-missing-packs')).toBe(pack.packId);
  });

  test("the storage credentials cannot delete a pack, and another user's pack is not the laptop's to register", async () => {
    const deletion = laptopS3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: packKey(ns(), pack.packId) }),
    );
    expect(await s3FailureStatus(deletion)).toBe(403);
    const head = await laptopS3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: packKey(ns(), pack.packId) }),
    );
    expect(head.ContentLength).toBe(pack.size);

    // Another account writes a pack to its own namespace; the laptop's token grants no right to
    // register it, nor to locate blocks there.
    const stranger = await signUp(stubs, 'journey-stranger');
    const strangerGrant = await unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, as(stranger));
    const strangerS3 = clientStorage(strangerGrant);
    try {
      const theirs = buildPack([randomBytes(3_000)]);
      expect(await putPackObject(strangerS3, bucket, stranger.rootNamespaceId, theirs)).toBe('uploaded');
      const refused = await callError(
        unary(
          stubs.metadata.registerPacks.bind(stubs.metadata),
          { namespaceId: stranger.rootNamespaceId, packs: [packMessage(theirs)] },
          as(laptop),
        ),
      );
      expect(refused.code).toBe(status.PERMISSION_DENIED);
      const located = await callError(
        unary(
          stubs.metadata.locateBlocks.bind(stubs.metadata),
          { namespaceId: stranger.rootNamespaceId, blockHashes: theirs.entries.map((entry) => entry.hash) },
          as(laptop),
        ),
      );
      expect(located.code).toBe(status.PERMISSION_DENIED);
      // The S3 write into their namespace is refused on AWS by the session policy naming only the
      // laptop's prefix (grant.prefixes above); moto ignores session policies, so it is not asserted here.
      // Outside every namespace the storage role itself refuses the write.
      const outside = s3FailureStatus(
        laptopS3.send(new PutObjectCommand({ Bucket: bucket, Key: `packs/${theirs.packId}`, Body: 'x' })),
      );
      expect(await outside).toBe(403);
    } finally {
      strangerS3.destroy();
    }
  });

  test('CommitFile and CommitFiles record the uploaded content as version 1', async () => {
    const single = await unary(
      stubs.metadata.commitFile.bind(stubs.metadata),
      { confirmMassDelete: false, namespaceId: ns(), change: change(files.plan.path, files.plan.content, 0) },
      as(laptop),
    );
    expect(single.entry).toMatchObject({
      namespaceId: ns(),
      path: files.plan.path,
      version: 1,
      deleted: false,
      deviceId: laptop.deviceId,
      content: files.plan.content,
    });
    expect(single.cursor).toBe(single.entry?.journalSeq);
    committed[files.plan.path] = single.entry as common.FileEntry;

    const batch = await unary(
      stubs.metadata.commitFiles.bind(stubs.metadata),
      {
        confirmMassDelete: false,
        namespaceId: ns(),
        changes: [
          change(files.notes.path, files.notes.content, 0),
          change(files.photo.path, files.photo.content, 0),
        ],
      },
      as(laptop),
    );
    expect(batch.results.map((result) => [result.path, result.outcome?.$case])).toEqual([
      [files.notes.path, 'committed'],
      [files.photo.path, 'committed'],
    ]);
    // One journal entry for the whole batch.
    expect(batch.cursor).toBe(single.cursor + 1);
    for (const result of batch.results) {
      if (result.outcome?.$case !== 'committed') throw new Error(`${result.path} not committed`);
      expect(result.outcome.value).toMatchObject({ version: 1, journalSeq: batch.cursor });
      committed[result.path] = result.outcome.value;
    }
    cursor = batch.cursor;
  });

  test('Diff from the desktop says DOWNLOAD for each file; LocateBlocks and ranged reads of the pack give blocks that match their hashes', async () => {
    const answers = await diff(desktop, []);
    const summary = answers.at(-1)?.message;
    expect(summary?.$case).toBe('summary');
    expect(summary?.value).toMatchObject({ cursor, entriesReceived: 0, actionsSent: 3 });
    const actions = answers.slice(0, -1).map((answer) => answer.message?.value as syncdiff.DiffAction);
    expect(actions.map((action) => [action.path, action.kind]).sort()).toEqual(
      Object.values(files)
        .map((file) => [file.path, syncdiff.ActionKind.ACTION_KIND_DOWNLOAD])
        .sort(),
    );

    const grant = await unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, as(desktop));
    const desktopS3 = clientStorage(grant);
    try {
      for (const action of actions) {
        const entry = action.serverEntry as common.FileEntry;
        expect(entry).toEqual(committed[action.path]);
        const original = Object.values(files).find((file) => file.path === action.path);
        const hashes = entry.content?.blockHashes ?? [];
        const { locations, missingBlockHashes } = await unary(
          stubs.metadata.locateBlocks.bind(stubs.metadata),
          { namespaceId: ns(), blockHashes: hashes },
          as(desktop),
        );
        expect(missingBlockHashes).toEqual([]);
        expect(locations.map((location) => location.blockHash)).toEqual(hashes);
        const blocks: Buffer[] = [];
        for (const location of locations) {
          // Where the laptop's pack put it: a byte range of that one object.
          const packed = pack.entries.find((packEntry) => packEntry.hash === location.blockHash);
          expect(location).toEqual({
            blockHash: packed?.hash,
            packId: pack.packId,
            offset: packed?.offset,
            length: packed?.length,
          });
          const block = await readPackedBlock(desktopS3, grant.bucket, ns(), location);
          expect(blockHash(block)).toBe(location.blockHash);
          blocks.push(block);
        }
        expect(Buffer.concat(blocks).equals(Buffer.concat(original?.blocks ?? []))).toBe(true);
      }
    } finally {
      desktopS3.destroy();
    }
  });

  test('a stale base version is a conflict: FAILED_PRECONDITION with filesync-current-version', async () => {
    const edited = fileOf([randomBytes(10_000)]);
    await upload(edited.blocks);
    const v2 = await unary(
      stubs.metadata.commitFile.bind(stubs.metadata),
      { confirmMassDelete: false, namespaceId: ns(), change: change(files.plan.path, edited.content, 1) },
      as(laptop),
    );
    expect(v2.entry?.version).toBe(2);

    const mine = fileOf([randomBytes(10_000)]);
    await upload(mine.blocks);
    const error = await callError(
      unary(
        stubs.metadata.commitFile.bind(stubs.metadata),
        { confirmMassDelete: false, namespaceId: ns(), change: change(files.plan.path, mine.content, 1) },
        as(desktop),
      ),
    );
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(trailer(error, 'filesync-current-version')).toBe('2');

    const batch = await unary(
      stubs.metadata.commitFiles.bind(stubs.metadata),
      { confirmMassDelete: false, namespaceId: ns(), changes: [change(files.plan.path, mine.content, 1)] },
      as(desktop),
    );
    expect(batch.results[0]?.outcome).toEqual({ $case: 'conflict', value: v2.entry });

    // What the desktop's next sync is told: both sides changed since version 1.
    const answers = await diff(desktop, [
      {
        path: files.plan.path,
        contentHash: mine.content.contentHash,
        size: mine.content.size,
        baseVersion: 1,
        baseContentHash: files.plan.content.contentHash,
        deleted: false,
      },
    ]);
    // The other paths, absent from this manifest, come back as downloads.
    const action = answers
      .map((answer) => answer.message?.value)
      .find((value) => (value as syncdiff.DiffAction | undefined)?.path === files.plan.path);
    expect(action).toMatchObject({
      path: files.plan.path,
      kind: syncdiff.ActionKind.ACTION_KIND_CONFLICT,
      serverEntry: { version: 2 },
    });
  });

  test('blocks not in storage: FAILED_PRECONDITION with filesync-missing-blocks', async () => {
    const unsent = fileOf([randomBytes(2_000)]);
    const error = await callError(
      unary(
        stubs.metadata.commitFile.bind(stubs.metadata),
        { confirmMassDelete: false, namespaceId: ns(), change: change('docs/unsent.txt', unsent.content, 0) },
        as(laptop),
      ),
    );
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(trailer(error, 'filesync-missing-blocks')).toBe(unsent.content.blockHashes.join(','));
  });

  test('Follow mails each later change below the folder; ListDeliveries lists the mail', async () => {
    await unary(stubs.metadata.follow.bind(stubs.metadata), { namespaceId: ns(), path: 'docs' }, as(laptop));
    const edited = fileOf([randomBytes(3_000)]);
    await upload(edited.blocks);
    const commit = await unary(
      stubs.metadata.commitFile.bind(stubs.metadata),
      { confirmMassDelete: false, namespaceId: ns(), change: change(files.notes.path, edited.content, 1) },
      as(desktop),
    );

    const [mail] = await waitForMail(stack.emulators.ses, email, { timeoutMs: 20_000 });
    expect(mail?.body.text ?? mail?.body.html).toContain(files.notes.path);

    const { deliveries } = await unary(
      stubs.notifier.listDeliveries.bind(stubs.notifier),
      { limit: 0 },
      as(laptop),
    );
    expect(deliveries[0]).toMatchObject({
      eventId: `${ns()}:${commit.cursor}`,
      email,
      subject: mail?.subject,
      paths: [files.notes.path],
    });
    expect(deliveries[0]?.sentAtMs).toBeGreaterThan(0);
    expect(deliveries[0]?.messageId).not.toBe('');

    // The notifier deleted the message after mailing (sqs:DeleteMessageBatch under its own key).
    await expectQueueDrained();
  });

  test('Unfollow stops the mail for that folder', async () => {
    await unary(
      stubs.metadata.unfollow.bind(stubs.metadata),
      { namespaceId: ns(), path: 'docs' },
      as(laptop),
    );
    await unary(
      stubs.metadata.follow.bind(stubs.metadata),
      { namespaceId: ns(), path: 'photos' },
      as(laptop),
    );
    const quiet = await unary(
      stubs.metadata.deleteFile.bind(stubs.metadata),
      { confirmMassDelete: false, namespaceId: ns(), path: files.notes.path, baseVersion: 2 },
      as(laptop),
    );
    const followed = await unary(
      stubs.metadata.deleteFile.bind(stubs.metadata),
      { confirmMassDelete: false, namespaceId: ns(), path: files.photo.path, baseVersion: 1 },
      as(laptop),
    );

    await waitForMail(stack.emulators.ses, email, { count: 2, timeoutMs: 20_000 });
    await expectQueueDrained();
    const { deliveries } = await unary(
      stubs.notifier.listDeliveries.bind(stubs.notifier),
      { limit: 10 },
      as(laptop),
    );
    const events = deliveries.map((delivery) => delivery.eventId);
    expect(events).toContain(`${ns()}:${followed.cursor}`);
    expect(events).not.toContain(`${ns()}:${quiet.cursor}`);
  });

  async function expectQueueDrained(): Promise<void> {
    const sqs = new SQSClient({
      region: stack.resources.region,
      endpoint: stack.emulators.moto,
      credentials: stack.observer,
    });
    try {
      const deadlineAt = Date.now() + 15_000;
      for (;;) {
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: stack.resources.queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        const left =
          Number(Attributes?.ApproximateNumberOfMessages) +
          Number(Attributes?.ApproximateNumberOfMessagesNotVisible);
        if (left === 0) return;
        if (Date.now() > deadlineAt) throw new Error(`${left} change event(s) still on the queue`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      sqs.destroy();
    }
  }
});
