import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLoginAttemptStore } from './dynamo-login-attempts';

type Sent = { name: string; input: Record<string, any> };

/** A stand-in for the document client that records commands and answers from a script. */
function scriptedClient(answers: ((command: Sent) => unknown)[]) {
  const sent: Sent[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const recorded = { name: command.constructor.name, input: command.input };
      sent.push(recorded);
      const answer = answers.shift();
      if (!answer) throw new Error('unexpected command');
      return answer(recorded);
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, sent };
}

const conditionFailed = () => {
  throw new ConditionalCheckFailedException({ message: 'condition', $metadata: {} });
};

describe('kind 12: DynamoLoginAttemptStore reserves each attempt with one atomic conditional update', () => {
  it('counts into the open window with ADD and answers the state from before it (ALL_OLD)', async () => {
    const { client, sent } = scriptedClient([
      () => ({ Attributes: { count: 4, firstAtMs: 10, lastAtMs: 20 } }),
    ]);
    const store = new DynamoLoginAttemptStore(client, 'auth');
    await expect(store.reserve('a@example.com', 1_000, 900)).resolves.toEqual({
      count: 4,
      firstAtMs: 10,
      lastAtMs: 20,
    });
    expect(sent).toEqual([
      {
        name: 'UpdateCommand',
        input: expect.objectContaining({
          Key: { pk: 'LOGINFAIL#a@example.com', sk: 'STATE' },
          UpdateExpression: 'ADD #count :one SET lastAtMs = :now',
          ConditionExpression: 'attribute_exists(pk) AND firstAtMs > :windowStart',
          ExpressionAttributeValues: { ':one': 1, ':now': 1_000, ':windowStart': 100 },
          ReturnValues: 'ALL_OLD',
        }),
      },
    ]);
  });

  it('opens a window with a conditional put when none is open, answering "no attempts before"', async () => {
    const { client, sent } = scriptedClient([conditionFailed, () => ({})]);
    const store = new DynamoLoginAttemptStore(client, 'auth');
    await expect(store.reserve('a@example.com', 1_000, 900)).resolves.toBeUndefined();
    expect(sent[1]).toEqual({
      name: 'PutCommand',
      input: expect.objectContaining({
        Item: expect.objectContaining({ count: 1, firstAtMs: 1_000, lastAtMs: 1_000, expiresAt: 2 }),
        ConditionExpression: 'attribute_not_exists(pk) OR firstAtMs <= :windowStart',
      }),
    });
  });

  it('counts against the window a concurrent attempt just opened, instead of opening a second', async () => {
    const { client, sent } = scriptedClient([
      conditionFailed,
      conditionFailed,
      () => ({ Attributes: { count: 1, firstAtMs: 999, lastAtMs: 999 } }),
    ]);
    const store = new DynamoLoginAttemptStore(client, 'auth');
    await expect(store.reserve('a@example.com', 1_000, 900)).resolves.toEqual({
      count: 1,
      firstAtMs: 999,
      lastAtMs: 999,
    });
    expect(sent.map((command) => command.name)).toEqual(['UpdateCommand', 'PutCommand', 'UpdateCommand']);
  });

  it('gives an unchecked attempt back without going below zero or creating an item', async () => {
    const { client, sent } = scriptedClient([() => ({}), conditionFailed]);
    const store = new DynamoLoginAttemptStore(client, 'auth');
    await store.release('a@example.com');
    await expect(store.release('a@example.com')).resolves.toBeUndefined();
    expect(sent[0]?.input).toMatchObject({
      UpdateExpression: 'ADD #count :minusOne',
      ConditionExpression: 'attribute_exists(pk) AND #count > :zero',
    });
  });
});
