import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDeliveryLedger, claimKey, historyKey } from './dynamo-delivery-ledger';

/** A stand-in for the document client that records commands and answers with a scripted result. */
function fakeClient(answer: (command: { input: Record<string, unknown> }) => unknown) {
  const sent: { name: string; input: Record<string, any> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return answer(command);
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, sent };
}

describe('DynamoDeliveryLedger (with a recording stand-in for the DynamoDB client)', () => {
  it('claims with a conditional put that only an expired in-progress claim lets through', async () => {
    let held: Record<string, unknown> | undefined;
    const { client, sent } = fakeClient(() => {
      if (held) {
        throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: held as never });
      }
      held = { state: { S: 'sending' }, leaseExpiresAtMs: { N: '1700000030000' } };
      return {};
    });
    const ledger = new DynamoDeliveryLedger(client, 'tbl');
    expect(await ledger.claim('ns:1', 'u', 1_700_000_000_000, 1_700_000_030_000)).toMatchObject({
      kind: 'claimed',
    });
    expect(await ledger.claim('ns:1', 'u', 1_700_000_000_000, 1_700_000_030_000)).toEqual({
      kind: 'in-progress',
      leaseExpiresAtMs: 1_700_000_030_000,
    });
    held = {};
    // A claim written before leases existed has no state: it counts as sent.
    expect(await ledger.claim('ns:1', 'u', 1_700_000_000_000, 1_700_000_030_000)).toEqual({ kind: 'sent' });
    expect(sent[0]?.input).toMatchObject({
      TableName: 'tbl',
      Item: { pk: 'DELIVERY#ns:1', sk: 'USER#u', state: 'sending', leaseExpiresAtMs: 1_700_000_030_000 },
      ConditionExpression: 'attribute_not_exists(pk) OR (#state = :sending AND #lease <= :now)',
      ExpressionAttributeValues: { ':sending': 'sending', ':now': 1_700_000_000_000 },
    });
  });

  it('passes other failures on', async () => {
    const { client } = fakeClient(() => {
      throw new Error('throttled');
    });
    await expect(new DynamoDeliveryLedger(client, 'tbl').claim('e', 'u', 0, 30_000)).rejects.toThrow(
      'throttled',
    );
  });

  it('marks the claim sent, then writes history under the user with a sortable key and a 90-day expiry', async () => {
    const { client, sent } = fakeClient(() => ({}));
    await new DynamoDeliveryLedger(client, 'tbl').record({
      eventId: 'ns:1',
      userId: 'u',
      email: 'u@example.com',
      subject: 's',
      paths: ['a'],
      sentAtMs: 1_700_000_000_000,
      messageId: 'm',
    });
    expect(sent[0]?.input.Item).toMatchObject({ pk: 'DELIVERY#ns:1', sk: 'USER#u', state: 'sent' });
    expect(sent[1]?.input.Item).toMatchObject({
      pk: 'USER#u',
      sk: 'DELIVERY#001700000000000#ns:1',
      eventId: 'ns:1',
      paths: ['a'],
      expiresAt: 1_700_000_000 + 90 * 24 * 3600,
    });
  });

  it('lists newest first with the requested limit', async () => {
    const { client, sent } = fakeClient(() => ({
      Items: [
        { eventId: 'ns:2', email: 'u@example.com', subject: 's', paths: ['a'], sentAtMs: 5, messageId: 'm' },
      ],
    }));
    const deliveries = await new DynamoDeliveryLedger(client, 'tbl').listForUser('u', 20);
    expect(sent[0]?.input).toMatchObject({ ScanIndexForward: false, Limit: 20 });
    expect(deliveries).toEqual([
      {
        eventId: 'ns:2',
        userId: 'u',
        email: 'u@example.com',
        subject: 's',
        paths: ['a'],
        sentAtMs: 5,
        messageId: 'm',
      },
    ]);
  });

  it('orders history keys by time', () => {
    expect(historyKey('u', 99, 'e').sk < historyKey('u', 100, 'e').sk).toBe(true);
    expect(claimKey('e', 'u')).toEqual({ pk: 'DELIVERY#e', sk: 'USER#u' });
  });
});
