import type { Logger } from '@filesync/server-kit';
import { parseChangeEvent, type ChangeEvent, type Recipient } from './change-event';
import { composeMail } from './mail';
import type { Clock, DeliveryLedger, Mailer, ReceivedMessage } from './ports';

/**
 * - handled: every recipient got the mail (now or before): delete the message.
 * - retry: some mail failed; keep the message so the queue hands it out again.
 * - malformed: the body is no change event; keep it so it ends up in the dead-letter queue.
 */
export type MessageOutcome = 'handled' | 'retry' | 'malformed';

export interface DeliveryDependencies {
  readonly ledger: DeliveryLedger;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly logger: Logger;
}

type RecipientOutcome = 'sent' | 'skipped' | 'failed';

/**
 * Turns one queue message into at most one mail per recipient. The claim is written before the
 * send, so a message delivered twice (or handled by two consumers at once) mails once; a failed
 * send gives its claim back so the redelivery can try again.
 */
export class ChangeEventDelivery {
  constructor(private readonly deps: DeliveryDependencies) {}

  async handle(message: ReceivedMessage): Promise<MessageOutcome> {
    const log = this.deps.logger.child({ sqsMessageId: message.id, receiveCount: message.receiveCount });
    const parsed = parseChangeEvent(message.body);
    if (!parsed.ok) {
      log.warn({ problem: parsed.problem }, 'malformed change event: left for the dead-letter queue');
      return 'malformed';
    }
    const { event } = parsed;
    let failed = 0;
    for (const recipient of event.recipients) {
      const outcome = await this.deliverTo(event, recipient, log);
      if (outcome === 'failed') failed += 1;
    }
    if (failed > 0) {
      log.warn({ eventId: event.eventId, failed }, 'some mails failed: the event will be retried');
      return 'retry';
    }
    return 'handled';
  }

  private async deliverTo(event: ChangeEvent, recipient: Recipient, log: Logger): Promise<RecipientOutcome> {
    if (recipient.paths.length === 0) return 'skipped';
    if (recipient.emailVerified !== true) {
      // Mail goes only to confirmed addresses, whatever produced the event.
      log.info({ eventId: event.eventId, userId: recipient.userId }, 'address not verified: not mailed');
      return 'skipped';
    }
    const { ledger, mailer, clock } = this.deps;
    const ids = { eventId: event.eventId, userId: recipient.userId };
    let claimed: boolean;
    try {
      claimed = await ledger.claim(event.eventId, recipient.userId, clock.now());
    } catch (error) {
      log.error({ ...ids, err: error }, 'could not claim the delivery');
      return 'failed';
    }
    if (!claimed) {
      log.info(ids, 'mail already sent for this event: skipped');
      return 'skipped';
    }

    const { subject, text } = composeMail(event, recipient);
    let messageId: string;
    try {
      ({ messageId } = await mailer.send({ to: recipient.email, subject, text }));
    } catch (error) {
      log.error({ ...ids, err: error }, 'sending the mail failed: releasing the claim');
      await ledger.release(event.eventId, recipient.userId).catch((releaseError: unknown) => {
        // The claim stays and this mail will not be retried: say so loudly.
        log.error({ ...ids, err: releaseError }, 'could not release the claim: this mail is lost');
      });
      return 'failed';
    }

    const sentAtMs = clock.now();
    try {
      await ledger.record({
        ...ids,
        email: recipient.email,
        subject,
        paths: recipient.paths,
        sentAtMs,
        messageId,
      });
    } catch (error) {
      // The mail went out and the claim keeps it from going again; only the history lacks it.
      log.error({ ...ids, err: error }, 'mail sent but its history entry could not be written');
    }
    log.info({ ...ids, mailId: messageId, paths: recipient.paths.length }, 'notification mailed');
    return 'sent';
  }
}
