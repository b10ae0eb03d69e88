import type { Logger } from '@filesync/server-kit';
import { CHANGE_EVENTS_QUEUE } from '@filesync/resources';
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

type RecipientOutcome = 'sent' | 'skipped' | 'pending' | 'failed';

/**
 * How long a send may take before it is abandoned. SES answers in well under a second; this
 * covers the SDK's own retries of a slow or throttled attempt.
 */
export const SEND_DEADLINE_MS = 10_000;

/**
 * How long a claim keeps other workers from sending the same mail. A worker that crashed
 * between claiming and sending leaves its claim behind: once the lease runs out, a later
 * receive of the event takes the claim over and sends. The lease is a few times the send
 * deadline, so a live worker finishes (or gives up) well before anyone may take over, and
 * shorter than the queue's visibility timeout, so the redelivery of the event (which comes
 * after that timeout) finds the lease already run out instead of spending one of the queue's
 * few receives before the dead-letter queue.
 */
export const CLAIM_LEASE_MS = Math.min(
  3 * SEND_DEADLINE_MS,
  // The claim is written a moment after the receive; a fifth of the timeout covers that moment.
  CHANGE_EVENTS_QUEUE.visibilityTimeoutSeconds * 1000 * 0.8,
);

/**
 * Turns one queue message into one mail per recipient. The claim is written before the send,
 * so a message delivered twice (or handled by two consumers at once) mails once; a failed send
 * gives its claim back and a crashed worker's claim expires, so a redelivery can try again.
 *
 * What can still send a mail twice: a worker that sent and then crashed (or could not record
 * the send) before the ledger marked the mail sent leaves an in-progress claim, which a later
 * receive takes over once its lease runs out. A duplicate is the lesser evil: the other order
 * (mark sent, then send) loses the mail in the same crash.
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
    let pending = 0;
    for (const recipient of event.recipients) {
      const outcome = await this.deliverTo(event, recipient, log);
      if (outcome === 'failed') failed += 1;
      if (outcome === 'pending') pending += 1;
    }
    if (failed > 0) {
      log.warn({ eventId: event.eventId, failed }, 'some mails failed: the event will be retried');
      return 'retry';
    }
    if (pending > 0) {
      log.info(
        { eventId: event.eventId, pending },
        'some mails are claimed elsewhere: the event will be retried',
      );
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
    let claimId: string;
    try {
      const nowMs = clock.now();
      const claim = await ledger.claim(event.eventId, recipient.userId, nowMs, nowMs + CLAIM_LEASE_MS);
      if (claim.kind === 'sent') {
        log.info(ids, 'mail already sent for this event: skipped');
        return 'skipped';
      }
      if (claim.kind === 'in-progress') {
        // Another worker is sending, or crashed while sending: keep the event until either the
        // mail is marked sent or the claim's lease runs out and a redelivery takes over.
        log.info({ ...ids, leaseExpiresAtMs: claim.leaseExpiresAtMs }, 'mail claimed by another worker');
        return 'pending';
      }
      claimId = claim.claimId;
    } catch (error) {
      log.error({ ...ids, err: error }, 'could not claim the delivery');
      return 'failed';
    }

    const { subject, text } = composeMail(event, recipient);
    let messageId: string;
    try {
      ({ messageId } = await mailer.send(
        { to: recipient.email, subject, text },
        AbortSignal.timeout(SEND_DEADLINE_MS),
      ));
    } catch (error) {
      log.error({ ...ids, err: error }, 'sending the mail failed: releasing the claim');
      await ledger.release(event.eventId, recipient.userId, claimId).catch((releaseError: unknown) => {
        // The claim's lease runs out on its own and a redelivery takes over: only later.
        log.warn({ ...ids, err: releaseError }, 'could not release the claim: the mail waits for its lease');
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
      // The narrow window for a duplicate: the mail went out, but its claim may still be marked
      // in progress, so a redelivery after the lease may send it again.
      log.error(
        { ...ids, err: error },
        'mail sent but could not be recorded: a redelivery may send it again',
      );
    }
    log.info({ ...ids, mailId: messageId, paths: recipient.paths.length }, 'notification mailed');
    return 'sent';
  }
}
