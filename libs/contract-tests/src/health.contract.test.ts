import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { callMetadata, type syncdiff } from '@filesync/contracts';
import { SERVICE_NAMES, type ServiceName } from '@filesync/resources';
import { collect, connectStubs, signUp, statusOf } from '@filesync/test-support';
import { FilesyncServiceContainer, type StartedFilesyncService } from './stack/service-container';
import { CONTRACT_PORTS, readContractStack } from './support/harness';
import { checkHealth, healthStub, type HealthStub } from './support/health';

const stack = readContractStack();

const GRPC_SERVICES: Readonly<Record<ServiceName, string>> = {
  auth: 'filesync.auth.v1.AuthService',
  metadata: 'filesync.metadata.v1.MetadataService',
  'sync-diff': 'filesync.syncdiff.v1.SyncDiffService',
  notifier: 'filesync.notifier.v1.NotifierService',
};

/** The next status a health Watch stream reports. */
function nextStatus(watch: ClientReadableStream<{ status: string }>, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no health update within ${timeoutMs} ms`)), timeoutMs);
    const done = (settle: () => void) => {
      clearTimeout(timer);
      watch.off('data', onData);
      watch.off('error', onError);
      settle();
    };
    const onData = (update: { status: string }) => done(() => resolve(String(update.status)));
    const onError = (error: Error) => done(() => reject(error));
    watch.on('data', onData);
    watch.on('error', onError);
  });
}

describe('grpc.health.v1 of the service images', () => {
  test.each(SERVICE_NAMES)('%s reports SERVING for the server and for its gRPC service', async (service) => {
    const health = healthStub(stack.services[service]);
    try {
      expect(await checkHealth(health, '')).toBe('SERVING');
      expect(await checkHealth(health, GRPC_SERVICES[service])).toBe('SERVING');
      expect(await statusOf(checkHealth(health, 'no.such.Service'))).toBe('NOT_FOUND');
    } finally {
      health.close();
    }
  });
});

// One more container of each image, on ports of its own, so stopping it leaves the suite's stack
// alone. SIGTERM (docker stop) must flip health to NOT_SERVING and let in-flight calls finish.
//
// NOT_SERVING is observed on a Watch stream opened before the signal: the server closes its
// listener and sends GOAWAY in the same tick, so a Check sent after SIGTERM, on a new or the same
// channel, is refused (UNAVAILABLE) rather than answered NOT_SERVING.
describe('SIGTERM drains a service container', () => {
  let container: StartedFilesyncService | undefined;
  let health: HealthStub | undefined;

  afterEach(async () => {
    health?.close();
    await container?.stop({ timeout: 2_000 }).catch(() => undefined);
    container = undefined;
  });

  const startExtra = async (service: ServiceName) => {
    const index = SERVICE_NAMES.indexOf(service);
    const started = await new FilesyncServiceContainer(service, stack.images[service])
      .withServiceEnvironment({
        ...stack.environments[service],
        FILESYNC_GRPC_PORT: String(CONTRACT_PORTS.drainBasePort + index),
        FILESYNC_METRICS_PORT: '0',
        // Long enough that only the drain itself, never the grace timer, ends the process.
        FILESYNC_SHUTDOWN_GRACE_MS: '20000',
      })
      .withLogFile(join(stack.logDir, `${service}-drain.log`))
      .start();
    container = started;
    health = healthStub(started.getGrpcAddress());
    return started;
  };

  test.each(SERVICE_NAMES)(
    '%s: health turns NOT_SERVING at SIGTERM and the process exits cleanly',
    async (service) => {
      const started = await startExtra(service);
      const watch = (health as HealthStub).Watch({ service: '' });
      watch.on('error', () => undefined);
      expect(await nextStatus(watch)).toBe('SERVING');

      const stopping = started.stop({ timeout: 20_000 });
      expect(await nextStatus(watch)).toBe('NOT_SERVING');
      watch.cancel();
      const began = Date.now();
      await stopping;
      container = undefined;
      // Drained, not killed at the end of docker stop's timeout.
      expect(Date.now() - began).toBeLessThan(15_000);
      const log = readFileSync(join(stack.logDir, `${service}-drain.log`), 'utf8');
      expect(log).toContain('shutting down: draining in-flight calls');
      expect(log).toContain('"msg":"stopped"');
    },
  );

  test('sync-diff: a Diff stream open at SIGTERM still completes with OK', async () => {
    const started = await startExtra('sync-diff');
    const stubs = connectStubs({ services: { ...stack.services, 'sync-diff': started.getGrpcAddress() } });
    try {
      const session = await signUp(stubs, 'drain');
      const watch = (health as HealthStub).Watch({ service: '' });
      watch.on('error', () => undefined);
      expect(await nextStatus(watch)).toBe('SERVING');

      const call = stubs.syncDiff.diff(callMetadata(session.accessToken), {
        deadline: new Date(Date.now() + 30_000),
      });
      const answers = collect(call as unknown as ClientReadableStream<syncdiff.DiffResponse>);
      const entry = (path: string): syncdiff.DiffRequest => ({
        message: {
          $case: 'entry',
          value: {
            path,
            contentHash: 'c'.repeat(64),
            size: 1,
            baseVersion: 0,
            baseContentHash: '',
            deleted: false,
          },
        },
      });
      // The server's response headers come with its first answer (the upload of the first entry,
      // decided as soon as the server listing has passed it): once they arrive the call is being
      // served, so the signal cannot find it still connecting however loaded the machine is.
      const served = new Promise<void>((resolve) => call.once('metadata', () => resolve()));
      call.write({
        message: {
          $case: 'start',
          value: { namespaceId: session.rootNamespaceId, sinceCursor: 0, remoteRoot: '', resumeAfter: '' },
        },
      });
      call.write(entry('sigterm-1-before.txt'));
      // A call that fails before answering settles `answers`: the assertions below then say why.
      await Promise.race([served, answers.then(() => undefined)]);

      const stopping = started.stop({ timeout: 20_000 });
      expect(await nextStatus(watch)).toBe('NOT_SERVING');
      watch.cancel();
      // The rest of the manifest arrives after the signal, on the call already in flight.
      call.write(entry('sigterm-2-after.txt'));
      call.end();

      const messages = await answers;
      expect(messages.at(-1)?.message).toMatchObject({
        $case: 'summary',
        value: { entriesReceived: 2, actionsSent: 2 },
      });
      await stopping;
      container = undefined;
    } finally {
      stubs.close();
    }
  });
});
