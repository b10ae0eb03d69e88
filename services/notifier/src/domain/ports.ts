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

/** The at-most-once ledger of mails and each user's delivery history. */
export interface DeliveryLedger {
  /** Claims the mail of one event to one user; false when it was claimed before (sent or in flight). */
  claim(eventId: string, userId: string, nowMs: number): Promise<boolean>;
  /** Gives a claim back after a failed send, so a redelivery can try again. */
  release(eventId: string, userId: string): Promise<void>;
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
  /** Hands the mail to the mail service; resolves with its message id. */
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
}

export interface Clock {
  now(): number;
}
