import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EventQueue, OutboxMessage } from '../relay/outbox-relay';

/** The change events queue (standard queue: no message groups, duplicates are the notifier's to drop). */
export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async publish(messages: readonly OutboxMessage[]) {
    // Batch entry ids must be short alphanumerics; outbox ids contain ':' and '#'.
    const output = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: messages.map((message, index) => ({ Id: `m${index}`, MessageBody: message.body })),
      }),
    );
    const idOf = (entryId: string | undefined) => messages[Number(entryId?.slice(1))]?.id;
    return {
      accepted: (output.Successful ?? []).map((entry) => idOf(entry.Id)).filter((id) => id !== undefined),
      failed: (output.Failed ?? []).map((entry) => ({
        id: idOf(entry.Id) ?? String(entry.Id),
        reason: `${entry.Code ?? 'error'}: ${entry.Message ?? ''}`,
      })),
    };
  }
}
