import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type auth } from '@filesync/contracts';
import { FilesyncClient } from '@filesync/sync-client';
import { playHistory, seededRandom, treeOf, type ModelDevice } from '@filesync/sync-client/testing';
import { as, connectStubs, deadline, signUp, type Stubs, TEST_PASSWORD, unary } from '@filesync/test-support';
import { readTestStack } from './support/harness';

// The model test's random histories (libs/sync-client/src/sync/testing/model-history.ts) against
// the real local stack: real services and emulators, real clients, each history a new account
// with three devices. Here passes fail only as they fail for real (no injected failures: the unit
// tier's engine-model test injects them). After the history settles, every device holds what a
// fresh device downloads, and every content a pass saw is a file somewhere or a version in the
// journal.
//
// FILESYNC_E2E_MODEL_HISTORIES=N runs N seeds (default 30); FILESYNC_E2E_MODEL_SEED=S replays one.

const stack = readTestStack();
const STEPS = 24;

describe('model histories against the real stack', () => {
  let stubs: Stubs;
  beforeAll(() => {
    stubs = connectStubs(stack);
  });
  afterAll(() => stubs?.close());

  /** Content hashes of every version the journal of `session`'s namespace holds. */
  async function journalHashes(session: auth.Session): Promise<Set<string>> {
    const hashes = new Set<string>();
    for (let cursor = 0, more = true; more;) {
      const page = await unary(
        stubs.metadata.listChanges.bind(stubs.metadata),
        { namespaceId: session.rootNamespaceId, afterCursor: cursor, limit: 1000 },
        { ...as(session), ...deadline() },
      );
      for (const entry of page.entries)
        for (const change of entry.changes) if (change.content) hashes.add(change.content.contentHash);
      cursor = page.cursor;
      more = page.hasMore;
    }
    return hashes;
  }

  async function runHistory(seed: number): Promise<string[]> {
    const session = await signUp(stubs, `model-${seed}`);
    const clients: FilesyncClient[] = [];
    const dirs: string[] = [];
    const temp = (label: string) => {
      const dir = mkdtempSync(join(tmpdir(), `e2e-model-${seed}-${label}-`));
      dirs.push(dir);
      return dir;
    };
    const device = async (name: string) => {
      const client = await FilesyncClient.open({ home: temp(`${name}-home`), server: stack.server });
      clients.push(client);
      await client.login(session.email, TEST_PASSWORD, name);
      return client;
    };
    try {
      const devices: ModelDevice[] = [];
      for (const name of ['dev0', 'dev1', 'dev2']) {
        const client = await device(name);
        const root = temp(name);
        devices.push({
          id: name,
          root,
          sync: ({ full }) => client.sync(root, { force: true, full }),
          forget: async () => {
            // A folder never synced has nothing to forget.
            await client.forget(root).catch((error: unknown) => {
              if ((error as Error).name !== 'SyncRootChoiceError') throw error;
            });
          },
        });
      }
      const observer = await device('observer');
      return await playHistory(
        {
          devices,
          // What a new device gets: a first sync into an empty folder.
          serverTree: async () => {
            const fresh = temp('observer');
            await observer.sync(fresh);
            const tree = treeOf(fresh);
            await observer.forget(fresh);
            return tree;
          },
          serverHistory: () => journalHashes(session),
        },
        seededRandom(seed),
        { steps: STEPS, failRate: 0 },
      );
    } finally {
      for (const client of clients) await client.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  }

  const replay = process.env.FILESYNC_E2E_MODEL_SEED;
  const seeds = replay
    ? [Number(replay)]
    : Array.from(
        { length: Number(process.env.FILESYNC_E2E_MODEL_HISTORIES ?? 30) },
        (_, index) => 1000 + index,
      );

  test(`${seeds.length} histories converge and lose nothing`, async () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const problems = await runHistory(seed);
      if (problems.length > 0) {
        failures.push(`seed ${seed} (replay: FILESYNC_E2E_MODEL_SEED=${seed}):\n  ${problems.join('\n  ')}`);
        break;
      }
    }
    expect(failures).toEqual([]);
  }, 1_800_000);
});
