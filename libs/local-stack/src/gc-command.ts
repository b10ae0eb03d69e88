import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  DEFAULT_REGION,
  NAMESPACE_ADVANCED_TOPIC,
  GARBAGE_COLLECTION,
  LOCAL_EMULATOR_PORTS,
  SERVICE_PORTS,
  TABLES,
  BLOCKS_BUCKET,
  CHANGE_EVENTS_QUEUE,
  type TableKey,
} from '@filesync/resources';
import { LOCAL_ACCOUNT_ID } from './bootstrap';
import { isPortFree } from './ports';
import { nodeBinary, repoRoot } from './repo';
import { buildServices, serviceEnvironment, servicePorts } from './services';

/** Variables of the caller's environment the collector honours locally (everything else is the stack's). */
const PASSED_THROUGH = [GARBAGE_COLLECTION.graceEnvVar, 'FILESYNC_LOG_LEVEL'];

/**
 * `npm run gc [-- --dry-run] [-- --json]`: one run of the storage garbage collector against the
 * local stack `npm start` runs, with exactly the environment the stack gives the metadata service
 * (the collector is a job of that service, bundled as dist/services/metadata/gc.mjs). Exits with
 * the collector's code.
 */
export async function main(): Promise<void> {
  const root = repoRoot();
  const ports = LOCAL_EMULATOR_PORTS;
  if (await isPortFree(ports.dynamodb)) {
    process.stderr.write(
      `npm run gc: nothing listens on DynamoDB Local's port ${ports.dynamodb}: start the local stack first (npm start)\n`,
    );
    process.exit(3);
  }
  await buildServices(root);
  const host = '127.0.0.1';
  const env = serviceEnvironment('metadata', {
    ports: servicePorts(SERVICE_PORTS.auth.grpc, SERVICE_PORTS.auth.metrics),
    emulators: {
      moto: `http://${host}:${ports.moto}`,
      dynamodb: `http://${host}:${ports.dynamodb}`,
      ses: `http://${host}:${ports.ses}`,
    },
    resources: {
      region: DEFAULT_REGION,
      bucket: BLOCKS_BUCKET.defaultName,
      tables: Object.fromEntries(
        (Object.keys(TABLES) as TableKey[]).map((key) => [key, TABLES[key].defaultName]),
      ) as Record<TableKey, string>,
      // Not read by the collector; the URL moto gives the stack's queue.
      queueUrl: `http://${host}:${ports.moto}/${LOCAL_ACCOUNT_ID}/${CHANGE_EVENTS_QUEUE.defaultName}`,
      deadLetterQueueUrl: '',
      advanceTopicArn: `arn:aws:sns:${DEFAULT_REGION}:${LOCAL_ACCOUNT_ID}:${NAMESPACE_ADVANCED_TOPIC.defaultName}`,
      storageRoleArn: '',
    },
    signingKey: '',
  });
  for (const name of PASSED_THROUGH) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  const child = spawn(
    nodeBinary(root),
    ['--enable-source-maps', join(root, 'dist', 'services', 'metadata', 'gc.mjs'), ...process.argv.slice(2)],
    { cwd: root, stdio: 'inherit', env: { PATH: process.env.PATH ?? '', ...env } },
  );
  const code = await new Promise<number>((resolve) => child.on('exit', (exit) => resolve(exit ?? 1)));
  process.exit(code);
}
