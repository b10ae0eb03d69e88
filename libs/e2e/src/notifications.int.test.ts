import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { FilesyncClient } from '@filesync/sync-client';
import {
  CALL_TIMEOUT_MS,
  connectStubs,
  EMPTY_CONTENT,
  mailTo,
  signUpVerified,
  TEST_PASSWORD,
  unary,
  uniqueEmail,
  verificationCode,
  waitForMail,
} from '@filesync/test-support';
import { readTestStack } from './support/harness';
import { tempDir, writeTree } from './support/trees';

// Real services and emulators: calls take seconds, not the unit tier's milliseconds.

const stack = readTestStack();

describe('notifications', () => {
  test('a follower gets an email within 10 seconds of a change below the followed folder', async () => {
    const email = uniqueEmail('follower');
    const home = tempDir('follower-home');
    const dir = tempDir('follower');
    const client = await FilesyncClient.open({ home, server: stack.server });
    try {
      await client.signup(email, TEST_PASSWORD, 'laptop');
      await client.verifyEmail(await verificationCode(stack.emulators.ses, email));
      writeTree(dir, { 'notes/first.txt': 'before following\n' });
      await client.sync(dir);
      await client.follow('notes');

      writeTree(dir, { 'notes/second.txt': 'after following\n', 'elsewhere/other.txt': 'not followed\n' });
      const changedAt = Date.now();
      await client.sync(dir);
      const [mail] = await waitForMail(stack.emulators.ses, email, { timeoutMs: 10_000 });
      expect(Date.now() - changedAt).toBeLessThan(10_000);
      const text = `${mail?.subject} ${mail?.body.text ?? ''} ${mail?.body.html ?? ''}`;
      expect(text).toContain('notes/second.txt');
      expect(text).not.toContain('elsewhere/other.txt');
    } finally {
      await client.close();
      rmSync(home, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('one commit of several files is one journal entry, one email and one delivery record', async () => {
    const stubs = connectStubs(stack);
    try {
      const session = await signUpVerified(stubs, stack.emulators.ses, 'batch');
      const auth = { timeoutMs: CALL_TIMEOUT_MS, accessToken: session.accessToken };
      const namespaceId = session.rootNamespaceId;
      // The actor follows the whole namespace: their own changes are mailed to them too.
      await unary(stubs.metadata.follow.bind(stubs.metadata), { namespaceId, path: '' }, auth);
      const paths = ['batch/a.txt', 'batch/b.txt', 'batch/c.txt'];
      const commit = await unary(
        stubs.metadata.commitFiles.bind(stubs.metadata),
        {
          confirmMassDelete: false,
          namespaceId,
          changes: paths.map((path) => ({
            path,
            baseVersion: 0,
            content: EMPTY_CONTENT,
            delete: false,
            moveFrom: '',
            moveFromBaseVersion: 0,
            modifiedAtMs: Date.now(),
          })),
        },
        auth,
      );
      expect(commit.results.map((result) => result.outcome?.$case)).toEqual([
        'committed',
        'committed',
        'committed',
      ]);

      const journal = await unary(
        stubs.metadata.listChanges.bind(stubs.metadata),
        { namespaceId, afterCursor: 0, limit: 0 },
        auth,
      );
      expect(journal.entries).toHaveLength(1);
      expect(journal.entries[0]?.changes.map((change) => change.path).sort()).toEqual(paths);
      expect(journal.cursor).toBe(commit.cursor);

      const mails = await waitForMail(stack.emulators.ses, session.email);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await mailTo(stack.emulators.ses, session.email)).toHaveLength(1);
      const text = `${mails[0]?.body.text ?? ''} ${mails[0]?.body.html ?? ''}`;
      for (const path of paths) expect(text).toContain(path);

      const history = await unary(stubs.notifier.listDeliveries.bind(stubs.notifier), { limit: 0 }, auth);
      expect(history.deliveries).toHaveLength(1);
      expect(history.deliveries[0]).toMatchObject({
        eventId: `${namespaceId}:${commit.cursor}`,
        email: session.email,
      });
      expect([...(history.deliveries[0]?.paths ?? [])].sort()).toEqual(paths);
    } finally {
      stubs.close();
    }
  });

  test('a change event delivered twice gives one email', async () => {
    const sqs = new SQSClient({
      region: stack.resources.region,
      endpoint: stack.emulators.moto,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const namespaceId = randomUUID();
    const recipient = {
      userId: randomUUID(),
      email: uniqueEmail('twice'),
      emailVerified: true,
      paths: ['shared/report.txt'],
    };
    const event = {
      eventId: `${namespaceId}:1`,
      namespaceId,
      seq: 1,
      committedAtMs: Date.now(),
      actor: { userId: randomUUID(), deviceId: randomUUID(), email: uniqueEmail('actor') },
      changes: [{ path: 'shared/report.txt', version: 1, deleted: false, size: 12 }],
      recipients: [recipient],
    };
    try {
      // Both copies are queued before the notifier can see either: SQS's at-least-once delivery.
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: stack.resources.queueUrl,
          Entries: [
            { Id: 'first', MessageBody: JSON.stringify(event) },
            { Id: 'second', MessageBody: JSON.stringify(event) },
          ],
        }),
      );
      expect(sent.Failed ?? []).toEqual([]);

      await waitForMail(stack.emulators.ses, recipient.email, { timeoutMs: 10_000 });
      // And once more after it was handled, as a redelivery after a lost delete would.
      await sqs.send(
        new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: JSON.stringify(event) }),
      );
      // The notifier long-polls with a 1 s wait: a few polls more would surface a second mail.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(await mailTo(stack.emulators.ses, recipient.email)).toHaveLength(1);
    } finally {
      sqs.destroy();
    }
  });

  test('a message that keeps failing ends in the dead-letter queue, not in a loop', async () => {
    const sqs = new SQSClient({
      region: stack.resources.region,
      endpoint: stack.emulators.moto,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const poison = `not a change event ${randomUUID()}`;
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: poison }));
      // The notifier never deletes it; after maxReceiveCount receives SQS moves it aside.
      const deadline = Date.now() + 60_000;
      let found = false;
      while (!found && Date.now() < deadline) {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.resources.deadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 2,
          }),
        );
        found = (received.Messages ?? []).some((message) => message.Body === poison);
      }
      expect(found).toBe(true);
    } finally {
      sqs.destroy();
    }
  });
});
