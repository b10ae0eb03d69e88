import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '@filesync/local-stack';
import { mailTo, uniqueEmail, waitForMail } from '@filesync/test-support';
import { readTestStack } from './support/harness';

// Real notifier, DynamoDB Local, moto's SQS and the SES emulator.

const stack = readTestStack();

/**
 * A change event of a fresh namespace for one verified recipient of `path`, the emulator clients
 * to play it with, and the notifier's claim on its mail.
 */
function mailScenario(label: string, path: string) {
  const client = { region: stack.resources.region, credentials: LOCAL_CREDENTIALS };
  const dynamodb = new DynamoDBClient({ ...client, endpoint: stack.emulators.dynamodb });
  const sqs = new SQSClient({ ...client, endpoint: stack.emulators.moto });
  const namespaceId = randomUUID();
  const recipient = { userId: randomUUID(), email: uniqueEmail(label), paths: [path], emailVerified: true };
  const event = {
    eventId: `${namespaceId}:1`,
    namespaceId,
    seq: 1,
    committedAtMs: Date.now(),
    actor: { userId: randomUUID(), deviceId: randomUUID(), email: uniqueEmail('actor') },
    changes: [{ path, version: 1, deleted: false, size: 12 }],
    recipients: [recipient],
  };
  const claimKey = { pk: { S: `DELIVERY#${event.eventId}` }, sk: { S: `USER#${recipient.userId}` } };
  return {
    dynamodb,
    recipient,
    claimKey,
    /** Writes a claim in progress on the mail, as a worker leaves it between claiming and sending. */
    claim: (claimId: string, claimedAtMs: number, leaseExpiresAtMs: number) =>
      dynamodb.send(
        new PutItemCommand({
          TableName: stack.resources.tables.notifier,
          Item: {
            ...claimKey,
            state: { S: 'sending' },
            claimId: { S: claimId },
            claimedAtMs: { N: String(claimedAtMs) },
            leaseExpiresAtMs: { N: String(leaseExpiresAtMs) },
            expiresAt: { N: String(Math.floor(claimedAtMs / 1000) + 30 * 24 * 3600) },
          },
        }),
      ),
    /** Puts the event on the notifier's queue. */
    enqueue: () =>
      sqs.send(
        new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: JSON.stringify(event) }),
      ),
    close: () => {
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}

describe('kind 16: the notifier never loses a mail in a crash', () => {
  test('a claim left by a worker that crashed before sending is taken over and the mail sent once', async () => {
    const { dynamodb, recipient, claimKey, claim, enqueue, close } = mailScenario('crash', 'shared/plan.txt');
    try {
      // What a worker leaves when it dies between claiming the mail and sending it: a claim in
      // progress whose lease has run out. Before leases, such a claim blocked the mail for 30 days.
      const claimedAtMs = Date.now() - 5 * 60_000;
      await claim('crashed-worker', claimedAtMs, claimedAtMs + 30_000);
      // The queue hands the event out again after the crashed worker's visibility timeout.
      await enqueue();

      const [mail] = await waitForMail(stack.emulators.ses, recipient.email, { timeoutMs: 15_000 });
      expect(`${mail?.subject} ${mail?.body.text ?? ''}`).toContain('shared/plan.txt');
      const stored = await dynamodb.send(
        new GetItemCommand({
          TableName: stack.resources.tables.notifier,
          Key: claimKey,
          ConsistentRead: true,
        }),
      );
      expect(stored.Item?.state?.S).toBe('sent');

      // A later redelivery finds it sent for good.
      await enqueue();
      // The notifier long-polls with a 1 s wait: a few polls more would surface a second mail.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(await mailTo(stack.emulators.ses, recipient.email)).toHaveLength(1);
    } finally {
      close();
    }
  });

  test('a claim a live worker still holds delays the mail until its lease runs out, and never drops it', async () => {
    const { recipient, claim, enqueue, close } = mailScenario('held', 'shared/held.txt');
    try {
      // Another worker claimed the mail a moment ago and (as it turns out) dies before sending.
      // Until its lease runs out nobody may send; the event must stay queued, not be skipped.
      const leaseExpiresAtMs = Date.now() + 3_000;
      await claim('slow-worker', Date.now(), leaseExpiresAtMs);
      await enqueue();

      await waitForMail(stack.emulators.ses, recipient.email, { timeoutMs: 20_000 });
      expect(Date.now()).toBeGreaterThanOrEqual(leaseExpiresAtMs);
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(await mailTo(stack.emulators.ses, recipient.email)).toHaveLength(1);
    } finally {
      close();
    }
  });
});
