import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@filesync/server-kit';
import type { EventSource, ReceivedMessage } from '../domain/ports';

/** SQS allows at most 10 messages per receive and per delete batch. */
const BATCH_SIZE = 10;

export class SqsEventSource implements EventSource {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    /** Long-poll wait; 10 s in production keeps empty receives (and their cost) rare. */
    private readonly waitSeconds: number,
    private readonly logger: Logger,
  ) {}

  async receive(signal: AbortSignal): Promise<ReceivedMessage[]> {
    const response = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: BATCH_SIZE,
        WaitTimeSeconds: this.waitSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      { abortSignal: signal },
    );
    const messages: ReceivedMessage[] = [];
    for (const message of response.Messages ?? []) {
      if (!message.MessageId || !message.ReceiptHandle) continue;
      messages.push({
        id: message.MessageId,
        receiptHandle: message.ReceiptHandle,
        body: message.Body ?? '',
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
      });
    }
    return messages;
  }

  async acknowledge(messages: readonly ReceivedMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += BATCH_SIZE) {
      const chunk = messages.slice(start, start + BATCH_SIZE);
      const response = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.receiptHandle,
          })),
        }),
      );
      for (const failure of response.Failed ?? []) {
        // The message reappears after its visibility timeout; the delivery ledger makes that harmless.
        this.logger.warn(
          { sqsMessageId: chunk[Number(failure.Id)]?.id, code: failure.Code },
          'queue did not delete a handled message',
        );
      }
    }
  }
}
