import { z } from 'zod';
import { CHANGE_EVENTS_QUEUE, MAIL_SENDER, SERVICE_PORTS, TABLES } from '@filesync/resources';
import {
  grpcTarget,
  loadConfig,
  serviceEnvFor,
  serviceSettings,
  type ServiceSettings,
  url,
} from '@filesync/server-kit';

export const notifierConfigSchema = z.object({
  ...serviceEnvFor(SERVICE_PORTS.notifier),
  [TABLES.notifier.envVar]: z.string().min(1).default(TABLES.notifier.defaultName),
  [CHANGE_EVENTS_QUEUE.urlEnvVar]: url(),
  FILESYNC_AUTH_ADDRESS: grpcTarget(),
  [MAIL_SENDER.envVar]: z
    .string()
    .regex(/^[^\s@]+@[^\s@]+$/, 'expected an email address, e.g. notifications@example.com')
    .default(MAIL_SENDER.defaultAddress),
  /** SQS allows 0-20; AWS bills per receive, so production waits long, a local stack may wait 1. */
  FILESYNC_POLL_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(10),
});

export interface NotifierConfig extends ServiceSettings {
  readonly table: string;
  readonly queueUrl: string;
  /** host:port of the auth service, which publishes the token signing keys. */
  readonly authAddress: string;
  readonly mailFrom: string;
  readonly pollWaitSeconds: number;
}

/** Reads and validates the environment; throws ConfigError naming every wrong variable. */
export function loadNotifierConfig(env: NodeJS.ProcessEnv): NotifierConfig {
  const parsed = loadConfig(notifierConfigSchema, env);
  return {
    ...serviceSettings(parsed),
    table: parsed[TABLES.notifier.envVar],
    queueUrl: parsed[CHANGE_EVENTS_QUEUE.urlEnvVar],
    authAddress: parsed.FILESYNC_AUTH_ADDRESS,
    mailFrom: parsed[MAIL_SENDER.envVar],
    pollWaitSeconds: parsed.FILESYNC_POLL_WAIT_SECONDS,
  };
}
