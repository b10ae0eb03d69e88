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

/**
 * Push between metadata tasks (issue 8, WatchChanges): a commit handled by one task must wake the
 * watchers connected to every other. Each commit publishes a tiny wake-up, `{namespaceId, seq}`,
 * to this SNS topic; each metadata task subscribes a queue of its own (created at start, deleted at
 * shutdown) and long-polls it. The message is only a wake-up: a watcher reads the journal from
 * its own cursor, so a lost, duplicated or reordered message costs latency at worst.
 */
export const NAMESPACE_ADVANCED_TOPIC = {
  id: 'NamespaceAdvancedTopic',
  defaultName: 'filesync-namespace-advanced',
  arnEnvVar: 'FILESYNC_NAMESPACE_ADVANCED_TOPIC_ARN',
  /**
   * Name prefix of the per-task queues (the task appends a random id): the task role may create
   * and delete queues of this prefix only.
   */
  taskQueuePrefix: 'filesync-watch-',
  /**
   * A queue whose task died without deleting it holds wake-ups nobody reads: this short retention
   * (SQS's minimum, seconds) keeps it tiny until it is cleaned up.
   */
  taskQueueRetentionSeconds: 60,
  /** Longest SQS long poll: it returns as soon as a message arrives. */
  receiveWaitSeconds: 20,
} as const;
