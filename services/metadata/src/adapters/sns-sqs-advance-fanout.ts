import { randomBytes } from 'node:crypto';
import { PublishCommand, SubscribeCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { NAMESPACE_ADVANCED_TOPIC } from '@filesync/resources';
import type { Logger } from '@filesync/server-kit';
import type { Advance, AdvanceFanout } from '../domain/ports';

/** What the fan-out counts (metrics). */
export interface FanoutObserver {
  /** Wake-up messages read from this task's queue. */
  received(count: number): void;
  /** Publishes that failed (the commit stood; watchers elsewhere wait for their slow re-read). */
  publishFailed(): void;
}

export interface SnsSqsFanoutOptions {
  readonly sns: SNSClient;
  /** Its request timeout must outlast `waitSeconds`: it carries the long poll. */
  readonly sqs: SQSClient;
  readonly topicArn: string;
  readonly logger: Logger;
  readonly observer?: FanoutObserver;
  /** Long-poll wait; it returns as soon as a message arrives. Seconds, at most 20. */
  readonly waitSeconds?: number;
}

/** The wire form of a wake-up: short keys, a few dozen bytes. */
interface AdvanceMessage {
  readonly n: string;
  readonly s: number;
}

function parse(body: string | undefined): Advance | undefined {
  try {
    const message = JSON.parse(body ?? '') as Partial<AdvanceMessage>;
    if (typeof message.n !== 'string' || !Number.isSafeInteger(message.s)) return undefined;
    return { namespaceId: message.n, seq: message.s! };
  } catch {
    return undefined;
  }
}

const MAX_BACKOFF_MS = 5_000;

/**
 * Push between tasks on SNS and SQS: every commit publishes `{n: namespaceId, s: seq}` to the
 * topic; each task subscribes a queue of its own (raw delivery), named with a random task id
 * under NAMESPACE_ADVANCED_TOPIC.taskQueuePrefix, and long-polls it. Start creates and subscribes
 * the queue; stop unsubscribes and deletes it. A task that dies without stopping leaves a queue
 * that keeps a minute of messages at most (taskQueueRetentionSeconds).
 */
export class SnsSqsAdvanceFanout implements AdvanceFanout {
  /** This task's queue name. */
  readonly queueName = `${NAMESPACE_ADVANCED_TOPIC.taskQueuePrefix}${randomBytes(8).toString('hex')}`;
  private queueUrl: string | undefined;
  private subscriptionArn: string | undefined;
  private readonly stopping = new AbortController();
  private polling: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: SnsSqsFanoutOptions) {}

  publish(advance: Advance): void {
    const { sns, topicArn, logger, observer } = this.options;
    const message: AdvanceMessage = { n: advance.namespaceId, s: advance.seq };
    const sending = sns
      .send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(message) }))
      .catch((error: unknown) => {
        observer?.publishFailed();
        logger.warn(
          { err: error, ...advance },
          'could not publish a namespace advance: other tasks re-read later',
        );
      })
      .finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  async start(onAdvance: (advance: Advance) => void): Promise<void> {
    const { sns, sqs, topicArn, logger } = this.options;
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: this.queueName,
        Attributes: {
          MessageRetentionPeriod: String(NAMESPACE_ADVANCED_TOPIC.taskQueueRetentionSeconds),
          ReceiveMessageWaitTimeSeconds: String(NAMESPACE_ADVANCED_TOPIC.receiveWaitSeconds),
        },
      }),
    );
    this.queueUrl = created.QueueUrl!;
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = attributes.Attributes!.QueueArn!;
    // Only the topic may send to the queue.
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'sns.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
              },
            ],
          }),
        },
      }),
    );
    const subscribed = await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: 'true' },
        ReturnSubscriptionArn: true,
      }),
    );
    this.subscriptionArn = subscribed.SubscriptionArn;
    logger.info({ queue: this.queueName }, 'hearing namespace advances of every task');
    this.polling = this.poll(onAdvance);
  }

  async stop(): Promise<void> {
    const { sns, sqs, logger } = this.options;
    this.stopping.abort();
    await this.polling;
    await Promise.allSettled([...this.inFlight]);
    const release = async (what: string, work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        logger.warn({ err: error, queue: this.queueName }, `could not ${what}`);
      }
    };
    if (this.subscriptionArn) {
      const arn = this.subscriptionArn;
      await release('unsubscribe the task queue', () =>
        sns.send(new UnsubscribeCommand({ SubscriptionArn: arn })),
      );
    }
    if (this.queueUrl) {
      const url = this.queueUrl;
      await release('delete the task queue', () => sqs.send(new DeleteQueueCommand({ QueueUrl: url })));
    }
  }

  private async poll(onAdvance: (advance: Advance) => void): Promise<void> {
    const { sqs, logger, observer } = this.options;
    const signal = this.stopping.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.options.waitSeconds ?? NAMESPACE_ADVANCED_TOPIC.receiveWaitSeconds,
          }),
          { abortSignal: signal },
        );
        failures = 0;
        const messages = received.Messages ?? [];
        if (messages.length === 0) continue;
        observer?.received(messages.length);
        // Wake first: the delete only spares a redelivery after the visibility timeout.
        for (const message of messages) {
          const advance = parse(message.Body);
          if (advance) onAdvance(advance);
          else logger.warn({ body: message.Body?.slice(0, 200) }, 'ignored a malformed namespace advance');
        }
        const deleting = sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: messages.map((message, index) => ({
                Id: `m${index}`,
                ReceiptHandle: message.ReceiptHandle!,
              })),
            }),
          )
          .catch((error: unknown) => logger.debug({ err: error }, 'could not delete read advances'))
          .finally(() => this.inFlight.delete(deleting));
        this.inFlight.add(deleting);
      } catch (error) {
        if (signal.aborted) break;
        failures += 1;
        const backoffMs = Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures) * (0.5 + Math.random() / 2);
        logger.warn({ err: error, backoffMs }, 'reading namespace advances failed: retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, backoffMs);
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          signal.addEventListener('abort', done, { once: true });
        });
      }
    }
  }
}
