import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '@filesync/local-stack';
import { mailTo, uniqueEmail, waitForMail } from '@filesync/test-support';
import { readTestStack } from './support/harness';

// Real notifier, DynamoDB Local, moto's SQS and the SES emulator.

const stack = readTestStack();

describe('kind 16: the notifier never loses a mail in a crash', () => {
  test('a claim left by a worker that crashed before sending is taken over and the mail sent once', async () => {
    const client = { region: stack.resources.region, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...client, endpoint: stack.emulators.dynamodb });
    const sqs = new SQSClient({ ...client, endpoint: stack.emulators.moto });
    const namespaceId = randomUUID();
    const recipient = {
      userId: randomUUID(),
      email: uniqueEmail('crash'),
      paths: ['shared/plan.txt'],
      emailVerified: true,
    };
    const event = {
      eventId: `${namespaceId}:1`,
      namespaceId,
      seq: 1,
      committedAtMs: Date.now(),
      actor: { userId: randomUUID(), deviceId: randomUUID(), email: uniqueEmail('actor') },
      changes: [{ path: 'shared/plan.txt', version: 1, deleted: false, size: 12 }],
      recipients: [recipient],
    };
    const claimKey = { pk: { S: `DELIVERY#${event.eventId}` }, sk: { S: `USER#${recipient.userId}` } };
    try {
      // What a worker leaves when it dies between claiming the mail and sending it: a claim in
      // progress whose lease has run out. Before leases, such a claim blocked the mail for 30 days.
      const claimedAtMs = Date.now() - 5 * 60_000;
      await dynamodb.send(
        new PutItemCommand({
          TableName: stack.resources.tables.notifier,
          Item: {
            ...claimKey,
            state: { S: 'sending' },
            claimId: { S: 'crashed-worker' },
            claimedAtMs: { N: String(claimedAtMs) },
            leaseExpiresAtMs: { N: String(claimedAtMs + 30_000) },
            expiresAt: { N: String(Math.floor(claimedAtMs / 1000) + 30 * 24 * 3600) },
          },
        }),
      );
      // The queue hands the event out again after the crashed worker's visibility timeout.
      await sqs.send(
        new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: JSON.stringify(event) }),
      );

      const [mail] = await waitForMail(stack.emulators.ses, recipient.email, { timeoutMs: 15_000 });
      expect(`${mail?.subject} ${mail?.body.text ?? ''}`).toContain('shared/plan.txt');
      const claim = await dynamodb.send(
        new GetItemCommand({
          TableName: stack.resources.tables.notifier,
          Key: claimKey,
          ConsistentRead: true,
        }),
      );
      expect(claim.Item?.state?.S).toBe('sent');

      // A later redelivery finds it sent for good.
      await sqs.send(
        new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: JSON.stringify(event) }),
      );
      // The notifier long-polls with a 1 s wait: a few polls more would surface a second mail.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(await mailTo(stack.emulators.ses, recipient.email)).toHaveLength(1);
    } finally {
      dynamodb.destroy();
      sqs.destroy();
    }
  });

  test('a claim a live worker still holds delays the mail until its lease runs out, and never drops it', async () => {
    const client = { region: stack.resources.region, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...client, endpoint: stack.emulators.dynamodb });
    const sqs = new SQSClient({ ...client, endpoint: stack.emulators.moto });
    const namespaceId = randomUUID();
    const recipient = {
      userId: randomUUID(),
      email: uniqueEmail('held'),
      paths: ['shared/held.txt'],
      emailVerified: true,
    };
    const event = {
      eventId: `${namespaceId}:1`,
      namespaceId,
      seq: 1,
      committedAtMs: Date.now(),
      actor: { userId: randomUUID(), deviceId: randomUUID(), email: uniqueEmail('actor') },
      changes: [{ path: 'shared/held.txt', version: 1, deleted: false, size: 12 }],
      recipients: [recipient],
    };
    try {
      // Another worker claimed the mail a moment ago and (as it turns out) dies before sending.
      // Until its lease runs out nobody may send; the event must stay queued, not be skipped.
      const leaseExpiresAtMs = Date.now() + 3_000;
      await dynamodb.send(
        new PutItemCommand({
          TableName: stack.resources.tables.notifier,
          Item: {
            pk: { S: `DELIVERY#${event.eventId}` },
            sk: { S: `USER#${recipient.userId}` },
            state: { S: 'sending' },
            claimId: { S: 'slow-worker' },
            claimedAtMs: { N: String(Date.now()) },
            leaseExpiresAtMs: { N: String(leaseExpiresAtMs) },
            expiresAt: { N: String(Math.floor(Date.now() / 1000) + 30 * 24 * 3600) },
          },
        }),
      );
      await sqs.send(
        new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: JSON.stringify(event) }),
      );

      await waitForMail(stack.emulators.ses, recipient.email, { timeoutMs: 20_000 });
      expect(Date.now()).toBeGreaterThanOrEqual(leaseExpiresAtMs);
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(await mailTo(stack.emulators.ses, recipient.email)).toHaveLength(1);
    } finally {
      dynamodb.destroy();
      sqs.destroy();
    }
  });
});
