import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '@filesync/resources';
import {
  bootstrap,
  generateSigningKey,
  serviceEnvironment,
  servicePorts,
  startEmulators,
  type LogSink,
} from '@filesync/local-stack';
import { useLocalDocker, type ContractStack, type RunnerRequest } from '../support/harness';
import { createCollectorUser, createObserver, createServiceUsers, enforceIamChecks } from './least-privilege';
import { FilesyncServiceContainer, serviceImage, type StartedFilesyncService } from './service-container';

function fileSink(file: string): LogSink {
  writeFileSync(file, '');
  return (name, line) => appendFileSync(file, `[${name}] ${line}\n`);
}

const byService = <T>(value: (name: ServiceName) => T) =>
  Object.fromEntries(SERVICE_NAMES.map((name) => [name, value(name)])) as Record<ServiceName, T>;

/**
 * Runs the contract stack in a process of its own, so global setup needs no TypeScript path
 * mapping: the emulators with moto's IAM checks on, and the four service images, each container
 * signing with its own least-privilege access key. Stops everything on SIGTERM or when stdin
 * (global setup's lifeline) closes.
 */
export async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as RunnerRequest;
  useLocalDocker();
  rmSync(request.logDir, { recursive: true, force: true });
  mkdirSync(request.logDir, { recursive: true });
  const sink = fileSink(join(request.logDir, 'emulators.log'));
  const log = (line: string) => sink('runner', line);

  const emulators = await startEmulators({ ports: request.emulatorPorts, sink });
  const containers: StartedFilesyncService[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await Promise.allSettled(containers.map((container) => container.stop({ timeout: 5_000 })));
      await emulators.stop();
    })();
    return stopping;
  };
  const exit = () => void stop().finally(() => process.exit(0));
  process.once('SIGTERM', exit);
  process.once('SIGINT', exit);
  process.stdin.on('end', exit);
  process.stdin.on('error', exit);
  process.stdin.resume();

  try {
    const resources = await bootstrap(emulators.endpoints);
    const credentials = await createServiceUsers(emulators.endpoints.moto, resources);
    const collector = await createCollectorUser(emulators.endpoints.moto, resources);
    const observer = await createObserver(emulators.endpoints.moto, resources.region);
    await enforceIamChecks(emulators.endpoints.moto);
    log('moto IAM checks on: every S3, STS and SQS call needs an allowing policy');

    const ports = servicePorts(request.basePort);
    const options = { ports, emulators: emulators.endpoints, resources, signingKey: generateSigningKey() };
    const environments = byService((name) => ({
      ...serviceEnvironment(name, options),
      AWS_ACCESS_KEY_ID: credentials[name].accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials[name].secretAccessKey,
    }));
    const started = Date.now();
    // Settled, not raced: a container still starting when another fails must be stopped too.
    const starts = await Promise.allSettled(
      SERVICE_NAMES.map(async (name) => {
        const container = await new FilesyncServiceContainer(name)
          .withServiceEnvironment(environments[name])
          .withLogFile(join(request.logDir, `${name}.log`))
          .start();
        containers.push(container);
      }),
    );
    const failed = starts.find((start) => start.status === 'rejected');
    if (failed) {
      throw new Error(
        `a service container did not become healthy (logs in ${request.logDir}): ${String(failed.reason)}`,
      );
    }
    log(`service containers healthy in ${Date.now() - started} ms`);

    const info: ContractStack = {
      services: byService((name) => `127.0.0.1:${ports[name].grpc}`),
      emulators: emulators.endpoints,
      resources: {
        region: resources.region,
        bucket: resources.bucket,
        queueUrl: resources.queueUrl,
        storageRoleArn: resources.storageRoleArn,
      },
      environments,
      collector: { accessKeyId: collector.accessKeyId, secretAccessKey: collector.secretAccessKey },
      observer: { accessKeyId: observer.accessKeyId, secretAccessKey: observer.secretAccessKey },
      images: byService((name) => serviceImage(name)),
      logDir: request.logDir,
      pid: process.pid,
    };
    mkdirSync(dirname(request.infoFile), { recursive: true });
    writeFileSync(`${request.infoFile}.tmp`, JSON.stringify(info, null, 2));
    renameSync(`${request.infoFile}.tmp`, request.infoFile);
  } catch (error) {
    await stop();
    throw error;
  }
}
