import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, parsePortOffset, shiftStackPorts } from '@filesync/local-stack';
import { harnessDir, readRunnerInfo, repoRootOf } from '@filesync/test-support/runner';

/**
 * Away from `npm start`'s defaults, so a running local stack does not collide, and below 32768,
 * Linux's ephemeral range, where an outgoing connection may hold a port when we bind it.
 */
export const TEST_PORTS = portsShiftedBy(portOffset());

/**
 * `FILESYNC_E2E_PORT_OFFSET` (default 0) shifts every port of the tier, so that several checkouts
 * on one machine can run it at once. Kept small: the shifted ports must stay below 32768.
 */
function portOffset(): number {
  // 2000 puts the highest port (the fourth service) at 29054.
  return parsePortOffset(process.env.FILESYNC_E2E_PORT_OFFSET ?? '0', 'FILESYNC_E2E_PORT_OFFSET', 2000);
}

/** The tier's stack, shifted as every stack beside another is (shiftStackPorts). */
function portsShiftedBy(offset: number) {
  const { basePort, emulatorPorts } = shiftStackPorts(
    { basePort: 21051, emulatorPorts: { moto: 14566, dynamodb: 18000, ses: 18005 } },
    offset,
  );
  return {
    basePort,
    /** The services a second time, serving TLS (tls.int.test.ts). */
    tlsBasePort: shiftStackPorts({ basePort: 25051, emulatorPorts }, offset).basePort,
    emulatorPorts,
  } as const;
}

/** A poison message reaches the dead-letter queue after maxReceiveCount receives of this many seconds each. */
export const TEST_QUEUE_VISIBILITY_SECONDS = 2;

export function e2eDir(root = repoRootOf()): string {
  return harnessDir('e2e', root);
}

/** Where the stack runner writes the running stack's endpoints. */
export function stackInfoFile(root = repoRootOf()): string {
  return join(e2eDir(root), 'stack.json');
}

/** The fields of the runner's StackInfo the tests use. */
export interface TestStack {
  readonly server: string;
  readonly services: { auth: string; metadata: string; 'sync-diff': string; notifier: string };
  readonly emulators: { moto: string; dynamodb: string; ses: string };
  readonly mailboxUrl: string;
  readonly resources: {
    region: string;
    bucket: string;
    queueUrl: string;
    deadLetterQueueUrl: string;
    advanceTopicArn: string;
    storageRoleArn: string;
    tables: { auth: string; metadata: string; outbox: string; notifier: string };
  };
  readonly logFile: string;
  readonly signingKeyFile: string;
}

export function readTestStack(): TestStack {
  return readRunnerInfo<TestStack>(stackInfoFile());
}

/**
 * The test stack's bucket as the emulator's own account sees it (not a user's scoped
 * credentials): what tests use to inspect or tamper with stored objects.
 */
export function emulatorS3(stack: TestStack): S3Client {
  return new S3Client({
    region: stack.resources.region,
    endpoint: stack.emulators.moto,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
}
