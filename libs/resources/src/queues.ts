/** SQS queues: change events from the metadata outbox relay to the notifier. */
export interface QueueDefinition {
  readonly id: string;
  readonly defaultName: string;
  /** Environment variable through which the queue URL reaches a service. */
  readonly urlEnvVar: string;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionSeconds: number;
  /** Receives after which a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly deadLetter: {
    readonly id: string;
    readonly defaultName: string;
    readonly retentionSeconds: number;
  };
}

export const CHANGE_EVENTS_QUEUE = {
  id: 'ChangeEventsQueue',
  defaultName: 'filesync-change-events',
  urlEnvVar: 'FILESYNC_CHANGE_EVENTS_QUEUE_URL',
  visibilityTimeoutSeconds: 30,
  retentionSeconds: 4 * 24 * 3600,
  maxReceiveCount: 5,
  deadLetter: {
    id: 'ChangeEventsDeadLetterQueue',
    defaultName: 'filesync-change-events-dlq',
    retentionSeconds: 14 * 24 * 3600,
  },
} as const satisfies QueueDefinition;
