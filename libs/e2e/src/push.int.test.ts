import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { callMetadata, metadata, type auth } from '@filesync/contracts';
import {
  freePort,
  LOCAL_CREDENTIALS,
  servicePorts,
  startServiceReplica,
  type ManagedProcess,
} from '@filesync/local-stack';
import { NAMESPACE_ADVANCED_TOPIC } from '@filesync/resources';
import {
  as,
  connectStubs,
  EMPTY_CONTENT,
  signUp,
  streamReader,
  trailer,
  unary,
  type Stubs,
} from '@filesync/test-support';
import { readTestStack } from './support/harness';

// Push (WatchChanges) across metadata tasks: the stack's metadata plays task A; this file starts
// a second metadata process, task B, against the same DynamoDB Local and moto (its own SQS queue
// subscribed to the SNS topic), as a second task behind the load balancer. A commit through A
// must reach a watcher connected to B within a second.

const stack = readTestStack();

/** The stack's gRPC ports, from its addresses (auth first, as servicePorts lays them). */
const stackPorts = () => servicePorts(Number(stack.services.auth.split(':').at(-1)));

describe('push across two metadata processes', () => {
  let stubs: Stubs;
  let replica: ManagedProcess | undefined;
  let taskB: metadata.MetadataServiceClient;
  let session: auth.Session;
  let namespaceId: string;
  const logs: string[] = [];

  beforeAll(async () => {
    stubs = connectStubs(stack);
    const grpcPort = await freePort();
    replica = await startServiceReplica('metadata', {
      grpcPort,
      ports: stackPorts(),
      emulators: stack.emulators,
      resources: stack.resources,
      signingKey: '',
      sink: (_name, line) => logs.push(line),
    });
    taskB = new metadata.MetadataServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    session = await signUp(stubs, 'push');
    namespaceId = session.rootNamespaceId;
  }, 60_000);

  afterAll(async () => {
    taskB?.close();
    stubs?.close();
    await replica?.stop(5_000);
  });

  const watch = (client: metadata.MetadataServiceClient, afterCursor: number, token = session.accessToken) =>
    streamReader(client.watchChanges({ namespaceId, afterCursor }, callMetadata(token)));

  /** Commits one empty file through task A; resolves with the journal cursor after it. */
  const commitOnA = async (path: string) => {
    const response = await unary(
      stubs.metadata.commitFiles.bind(stubs.metadata),
      {
        namespaceId,
        changes: [
          {
            path,
            baseVersion: 0,
            content: EMPTY_CONTENT,
            delete: false,
            modifiedAtMs: 1_700_000_000_000,
            moveFrom: '',
            moveFromBaseVersion: 0,
          },
        ],
        confirmMassDelete: false,
      },
      as(session),
    );
    expect(response.results.map((result) => result.outcome?.$case)).toEqual(['committed']);
    return response.cursor;
  };

  test('a commit through task A reaches a watcher on task B within a second', async () => {
    const head = await commitOnA('before/watch.txt');
    const stream = watch(taskB, head);
    // No backlog: the stream says it is up at once, so the commits below are live ones.
    expect(await stream.next()).toEqual({ entries: [], cursor: head });

    const latencies: number[] = [];
    for (let index = 1; index <= 7; index += 1) {
      const path = `live/${index}.txt`;
      const cursor = await commitOnA(path);
      const committedAt = performance.now();
      let message = await stream.next();
      // A heartbeat may cross the commit; the entry follows it.
      while (message.entries.length === 0) message = await stream.next();
      latencies.push(performance.now() - committedAt);
      expect(message.entries.map((entry) => [entry.seq, entry.changes.map((change) => change.path)])).toEqual(
        [[cursor, [path]]],
      );
      expect(message.cursor).toBe(cursor);
    }
    stream.cancel();
    // The median, so one commit slowed by a busy machine does not fail the test; heartbeats (the
    // only other way an entry could come) are 15 s apart, so this is the push path.
    const median = [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length / 2)]!;
    expect(median).toBeLessThan(1_000);
  }, 60_000);

  test('a client that reconnects from its cursor, to the other task, misses nothing and gets nothing twice', async () => {
    const first = watch(taskB, 0);
    const seen: number[] = [];
    let cursor = 0;
    const readUntil = async (reader: ReturnType<typeof watch>, target: number) => {
      while (cursor < target) {
        const message = await reader.next();
        seen.push(...message.entries.map((entry) => entry.seq));
        cursor = message.cursor;
      }
    };
    let head = await commitOnA('reconnect/a.txt');
    await readUntil(first, head);
    head = await commitOnA('reconnect/b.txt');
    await readUntil(first, head);
    first.cancel();
    expect((await first.ended()).error?.code).toBe(status.CANCELLED);

    // Commits while disconnected, then a reconnect through task A this time.
    for (const name of ['c', 'd', 'e']) head = await commitOnA(`reconnect/${name}.txt`);
    const second = watch(stubs.metadata, cursor);
    await readUntil(second, head);
    head = await commitOnA('reconnect/f.txt');
    await readUntil(second, head);
    second.cancel();

    expect(seen).toEqual(Array.from({ length: head }, (_, index) => index + 1));
  }, 60_000);

  test('refuses bad cursors, other namespaces and missing tokens with the contract codes', async () => {
    const head = await commitOnA('codes/one.txt');
    const ahead = (await watch(taskB, head + 5).ended()).error as ServiceError;
    expect([ahead.code, trailer(ahead, 'filesync-cursor')]).toEqual([status.FAILED_PRECONDITION, 'ahead']);
    expect((await watch(taskB, -1).ended()).error?.code).toBe(status.INVALID_ARGUMENT);
    const other = await signUp(stubs, 'push-other');
    expect((await watch(taskB, 0, other.accessToken).ended()).error?.code).toBe(status.PERMISSION_DENIED);
    expect((await watch(taskB, 0, '').ended()).error?.code).toBe(status.UNAUTHENTICATED);
  }, 60_000);

  test('a task that shuts down ends its watch streams UNAVAILABLE and deletes its queue', async () => {
    const sqs = new SQSClient({
      region: stack.resources.region,
      endpoint: stack.emulators.moto,
      credentials: LOCAL_CREDENTIALS,
    });
    const taskQueues = async () =>
      (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: NAMESPACE_ADVANCED_TOPIC.taskQueuePrefix })))
        .QueueUrls ?? [];
    try {
      const before = await taskQueues();
      const stream = watch(taskB, 0);
      await stream.next();
      const stopping = replica!.stop(15_000);
      const end = await stream.ended(15_000);
      expect(end.error?.code).toBe(status.UNAVAILABLE);
      await stopping;
      replica = undefined;
      const after = await taskQueues();
      expect(after.length).toBe(before.length - 1);
      expect(before).toEqual(expect.arrayContaining(after));
    } finally {
      sqs.destroy();
    }
  }, 60_000);
});
