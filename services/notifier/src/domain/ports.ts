/** A message taken from the change-event queue, hidden from other consumers until acknowledged or timed out. */
export interface ReceivedMessage {
  readonly id: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** How often the queue has handed this message out, this time included. */
  readonly receiveCount: number;
}

export interface EventSource {
  /** Waits (long polling) for up to one batch; rejects when `signal` aborts. */
  receive(signal: AbortSignal): Promise<ReceivedMessage[]>;
  /** Removes handled messages from the queue for good. */
  acknowledge(messages: readonly ReceivedMessage[]): Promise<void>;
}

/** One mail sent, as kept in the recipient's history. */
export interface DeliveryRecord {
  readonly eventId: string;
  readonly userId: string;
  readonly email: string;
  readonly subject: string;
  readonly paths: readonly string[];
  readonly sentAtMs: number;
  readonly messageId: string;
}

/**
 * What a claim found. `claimed`: this worker sends, and only it may release the claim (by its
 * id). `sent`: the mail went out before. `in-progress`: another worker holds an unexpired claim;
 * it may still send, or it crashed and its lease runs out, after which a later receive takes over.
 */
export type ClaimOutcome =
  | { readonly kind: 'claimed'; readonly claimId: string }
  | { readonly kind: 'sent' }
  | { readonly kind: 'in-progress'; readonly leaseExpiresAtMs: number };

/** The ledger of mails (claimed, then sent) and each user's delivery history. */
export interface DeliveryLedger {
  /**
   * Claims the mail of one event to one user until `leaseUntilMs`: succeeds when nobody claimed
   * it, or when an earlier claim was never completed and its lease has run out at `nowMs`.
   */
  claim(eventId: string, userId: string, nowMs: number, leaseUntilMs: number): Promise<ClaimOutcome>;
  /** Gives a claim back after a failed send, unless another worker has taken it over since. */
  release(eventId: string, userId: string, claimId: string): Promise<void>;
  /** Marks the mail sent for good (no claim can take it over again) and adds it to the history. */
  record(delivery: DeliveryRecord): Promise<void>;
  /** A user's deliveries, newest first. */
  listForUser(userId: string, limit: number, signal?: AbortSignal): Promise<DeliveryRecord[]>;
}

export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Mailer {
  /** Hands the mail to the mail service; resolves with its message id, or rejects once `signal` aborts. */
  send(mail: OutgoingMail, signal: AbortSignal): Promise<{ messageId: string }>;
}

export interface Clock {
  now(): number;
}
