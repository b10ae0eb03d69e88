/**
 * Measures the server time of commits on a namespace of many files, against DynamoDB Local:
 *   npx tsx services/metadata/src/testing/measure-commit.ts [files=100000]
 * The namespace's FILE# and head items are written directly (batch writes); then the real
 * Committer and DynamoMetadataStore commit 1 and 500 files, new and edited, and the same in an
 * empty namespace for comparison. Block storage is the in-memory fake (blocks exist), so the
 * figures are the metadata table's share of a commit.
 */
import { performance } from 'node:perf_hooks';
import { batchWriteAll } from '../adapters/dynamo-batch';
import { DynamoMetadataStore } from '../adapters/dynamo-metadata-store';
import { fileKey, folderKey, nsKey } from '../adapters/keys';
import { ACTOR, NS, committerSetup, contentChange, hashOf } from './fakes';
import { startDynamoDbLocal } from './dynamo-local';

const EMPTY_NS = 'ns-empty';

async function main(): Promise<void> {
  const files = Number(process.argv[2] ?? 100_000);
  const dynamo = await startDynamoDbLocal();
  try {
    const tables = await dynamo.createTables('measure');
    const store = new DynamoMetadataStore(dynamo.documents, tables);
    const pk = nsKey(NS);
    const started = performance.now();
    const requests = [];
    for (let index = 0; index < files; index += 1) {
      const path = `tree/${String(Math.floor(index / 1000)).padStart(3, '0')}/file-${index}.txt`;
      requests.push({
        PutRequest: {
          Item: {
            pk,
            sk: fileKey(path),
            path,
            version: 1,
            deleted: false,
            contentHash: `h${index}`,
            size: 4096,
            blockHashes: [hashOf(1)],
            modifiedAtMs: 1,
            committedAtMs: 1,
            deviceId: 'device-0',
            journalSeq: 1,
          },
        },
      });
    }
    // Written by a service that marks folders (the head says so): the tree's two folder levels.
    const folders = new Set(['tree']);
    for (let index = 0; index < files; index += 1000)
      folders.add(`tree/${String(index / 1000).padStart(3, '0')}`);
    for (const path of folders) requests.push({ PutRequest: { Item: { pk, sk: folderKey(path), path } } });
    requests.push({
      PutRequest: { Item: { pk, sk: 'HEAD', seq: 1, live: files, folderMarkers: true, updatedAtMs: 1 } },
    });
    await batchWriteAll(dynamo.documents, tables.metadata, requests);
    process.stdout.write(
      `wrote ${files} files (${requests.length} items) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );

    // Edits take the files' own base version; the blocks are ones the fake storage holds.
    const { committer } = committerSetup({ store, clock: { now: () => Date.now() } });
    const { committer: emptyCommitter, storage } = committerSetup({
      store,
      clock: { now: () => Date.now() },
    });
    storage.add(EMPTY_NS, ...Array.from({ length: 20 }, (_, index) => hashOf(index + 1)));
    const time = async (label: string, run: () => Promise<{ outcomes: readonly { kind: string }[] }>) => {
      const begin = performance.now();
      const { outcomes } = await run();
      const ms = performance.now() - begin;
      const committed = outcomes.filter((outcome) => outcome.kind === 'committed').length;
      process.stdout.write(`${label.padEnd(52)} ${ms.toFixed(0).padStart(6)} ms  (${committed} committed)\n`);
    };
    const path = (index: number) =>
      `tree/${String(Math.floor(index / 1000)).padStart(3, '0')}/file-${index}.txt`;
    const edits = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => contentChange(path(from + index), 1, [2]));
    const created = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, index) => contentChange(`${prefix}/new-${index}.txt`, 0, [3]));

    // One-file commits are repeated: the median says what a commit costs, the first one warms up.
    const repeated = async (label: string, run: (attempt: number) => Promise<unknown>) => {
      const times: number[] = [];
      for (let attempt = 0; attempt < 9; attempt += 1) {
        const begin = performance.now();
        await run(attempt);
        times.push(performance.now() - begin);
      }
      const sorted = [...times].sort((a, b) => a - b);
      process.stdout.write(
        `${label.padEnd(52)} median ${sorted[4]!.toFixed(0)} ms, first ${times[0]!.toFixed(0)} ms, ` +
          `max ${sorted[8]!.toFixed(0)} ms (9 commits)\n`,
      );
    };
    await repeated(`${files} files: edit 1 file`, (attempt) =>
      committer.commit(NS, ACTOR, edits(10 + attempt, 1)),
    );
    await repeated(`${files} files: 1 new file`, (attempt) =>
      committer.commit(NS, ACTOR, created(`one-${attempt}`, 1)),
    );
    await repeated('empty namespace: 1 new file', (attempt) =>
      emptyCommitter.commit(EMPTY_NS, ACTOR, created(`one-${attempt}`, 1)),
    );
    for (const round of [1, 2]) {
      await time(`${files} files: edit 500 files (round ${round})`, () =>
        committer.commit(NS, ACTOR, edits(round * 1000, 500)),
      );
      await time(`${files} files: 500 new files (round ${round})`, () =>
        committer.commit(NS, ACTOR, created(`r${round}b`, 500)),
      );
      await time(`empty namespace: 500 new files (round ${round})`, () =>
        emptyCommitter.commit(EMPTY_NS, ACTOR, created(`r${round}b`, 500)),
      );
    }
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
