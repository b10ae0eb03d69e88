// Randomized model test of the sync engine (see testing/model-history.ts): random histories on
// three devices, with passes failing at random server calls (full diffs also midway, after a
// progress report, so later passes resume them), against an in-memory model of the
// services (ModelServer, a fake: this is a unit test). The same histories run against the real
// local stack in libs/e2e (model-history.int.test.ts).
//
// FILESYNC_MODEL_HISTORIES=N runs N seeds (default 150); FILESYNC_MODEL_SEED=S replays one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDb } from '../state/state-db';
import { syncFolder } from './engine';
import { engineDeps } from './testing/engine-fakes';
import { playHistory, seededRandom, type ModelDevice } from './testing/model-history';
import { ModelServer } from './testing/model-server';

const DEVICES = 3;
const STEPS = 40;

/** Moves committed and applied by rename over the run: the histories must exercise them. */
let moved = 0;
/** Full diffs resumed after one broke off: the histories must exercise them too. */
let resumed = 0;

async function runHistory(seed: number): Promise<string[]> {
  const next = seededRandom(seed);
  const server = new ModelServer();
  const states: StateDb[] = [];
  const devices: ModelDevice[] = [];
  for (let index = 0; index < DEVICES; index++) {
    const id = `dev${index}`;
    const root = await mkdtemp(join(tmpdir(), `model-${seed}-${index}-`));
    const state = StateDb.open(':memory:');
    states.push(state);
    devices.push({
      id,
      root,
      sync: async ({ failRate, full }) => {
        const summary = await syncFolder(
          root,
          'ns',
          engineDeps({
            state,
            blocks: server.blocks,
            remote: server.remoteFor(id, () => next() < failRate),
            deviceLabel: id,
          }),
          { force: true, full },
        );
        moved += summary.moved;
        return summary;
      },
      forget: async () => state.forgetFolder(root),
    });
  }
  try {
    return await playHistory(
      {
        devices,
        serverTree: async () => server.liveTree(),
        serverHistory: async () =>
          new Set(server.history.flatMap((version) => (version.deleted ? [] : [version.contentHash]))),
      },
      next,
      { steps: STEPS },
    );
  } finally {
    resumed += server.resumedDiffs;
    for (const state of states) state.close();
    for (const device of devices) await rm(device.root, { recursive: true, force: true });
  }
}

describe('sync engine model test (random histories on three devices, in-memory server)', () => {
  const replay = process.env.FILESYNC_MODEL_SEED;
  const seeds = replay
    ? [Number(replay)]
    : Array.from({ length: Number(process.env.FILESYNC_MODEL_HISTORIES ?? 150) }, (_, index) => index + 1);

  it(`converges and loses nothing over ${seeds.length} histories`, async () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const problems = await runHistory(seed);
      if (problems.length > 0) {
        failures.push(
          `seed ${seed} (replay: FILESYNC_MODEL_SEED=${seed} npx jest engine-model):\n  ${problems.join('\n  ')}`,
        );
        if (failures.length >= 3) break;
      }
    }
    expect(failures).toEqual([]);
    // Renames are a tenth of the steps: a run of a few dozen histories commits and applies moves.
    if (seeds.length >= 20) expect(moved).toBeGreaterThan(0);
    if (seeds.length >= 20) expect(resumed).toBeGreaterThan(0);
  }, 600_000);
});
