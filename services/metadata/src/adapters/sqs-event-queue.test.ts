// Unit tests with a fake SQS client that answers SendMessageBatch (no network).
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SqsEventQueue } from './sqs-event-queue';

describe('SqsEventQueue', () => {
  it('maps batch entry ids back to outbox ids, accepted and failed', async () => {
    let input: any;
    const client = {
      send: async (command: { input: unknown }) => {
        input = command.input;
        return {
          Successful: [{ Id: 'm0' }, { Id: 'm2' }],
          Failed: [{ Id: 'm1', Code: 'InternalError', Message: 'try again', SenderFault: false }],
        };
      },
    } as unknown as SQSClient;
    const queue = new SqsEventQueue(client, 'http://queue');
    const result = await queue.publish([
      { id: 'EVENT#ns:1', body: '{"a":1}' },
      { id: 'EVENT#ns:2', body: '{"a":2}' },
      { id: 'EVENT#ns:3', body: '{"a":3}' },
    ]);

    expect(input).toEqual({
      QueueUrl: 'http://queue',
      Entries: [
        { Id: 'm0', MessageBody: '{"a":1}' },
        { Id: 'm1', MessageBody: '{"a":2}' },
        { Id: 'm2', MessageBody: '{"a":3}' },
      ],
    });
    expect(result).toEqual({
      accepted: ['EVENT#ns:1', 'EVENT#ns:3'],
      failed: [{ id: 'EVENT#ns:2', reason: 'InternalError: try again' }],
    });
  });
});
