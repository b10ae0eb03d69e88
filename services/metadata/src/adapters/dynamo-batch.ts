import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { unavailable } from '@filesync/server-kit';

export type Item = Record<string, any>;
export type Key = { pk: string; sk: string };

const GET_BATCH = 100;
const WRITE_BATCH = 25;
const MAX_ROUNDS = 6;
/** Parallel batch requests per call: enough to hide latency without flooding the table. */
const PARALLEL_BATCHES = 4;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const backoff = (round: number) => sleep(Math.min(1_000, 25 * 2 ** round));

function chunks<T>(values: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < values.length; index += size) result.push(values.slice(index, index + size));
  return result;
}

/**
 * Reads many items by key (strongly consistent), 100 keys per request, retrying keys DynamoDB
 * left unprocessed under load. Duplicate keys are read once.
 */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Key[],
  projection?: { expression: string; names: Record<string, string> },
): Promise<Item[]> {
  const unique = [...new Map(keys.map((key) => [`${key.pk}\u0000${key.sk}`, key])).values()];
  const limit = pLimit(PARALLEL_BATCHES);
  const results = await Promise.all(
    chunks(unique, GET_BATCH).map((batch) =>
      limit(async () => {
        const items: Item[] = [];
        let pending: Record<string, any>[] = batch;
        for (let round = 0; pending.length > 0; round += 1) {
          // Keys left unprocessed round after round: the table is throttling us, a transient state.
          if (round >= MAX_ROUNDS) throw unavailable('the metadata table is busy: retry shortly');
          if (round > 0) await backoff(round);
          const output = await client.send(
            new BatchGetCommand({
              RequestItems: {
                [tableName]: {
                  Keys: pending,
                  ConsistentRead: true,
                  ...(projection
                    ? {
                        ProjectionExpression: projection.expression,
                        ExpressionAttributeNames: projection.names,
                      }
                    : {}),
                },
              },
            }),
          );
          items.push(...(output.Responses?.[tableName] ?? []));
          pending = output.UnprocessedKeys?.[tableName]?.Keys ?? [];
        }
        return items;
      }),
    ),
  );
  return results.flat();
}

type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } };

/** Writes or deletes many items, 25 per request, retrying what DynamoDB left unprocessed. */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
): Promise<void> {
  const limit = pLimit(PARALLEL_BATCHES);
  await Promise.all(
    chunks(requests, WRITE_BATCH).map((batch) =>
      limit(async () => {
        let pending: readonly WriteRequest[] = batch;
        for (let round = 0; pending.length > 0; round += 1) {
          if (round >= MAX_ROUNDS) throw unavailable('the metadata table is busy: retry shortly');
          if (round > 0) await backoff(round);
          const output = await client.send(
            new BatchWriteCommand({ RequestItems: { [tableName]: pending as WriteRequest[] } }),
          );
          pending = (output.UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
        }
      }),
    ),
  );
}
