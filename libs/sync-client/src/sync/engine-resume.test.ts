// Unit tests with fakes: a full diff that breaks off midway is resumed by the next pass, against
// ModelServer (an in-memory model of sync-diff and metadata, testing/model-server.ts); no network.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { StateDb } from '../state/state-db';
import { syncFolder } from './engine';
import type { ManifestEntry } from './model';
import type { DiffOptions, SyncRemote } from './remote';
import { engineDeps } from './testing/engine-fakes';
import { InjectedFailure, ModelServer } from './testing/model-server';

const FILES = 40;
const name = (index: number) => `d/f${String(index).padStart(3, '0')}.txt`;

interface Device {
  readonly root: string;
  readonly state: StateDb;
  /** Every diff call: its options and the paths of its manifest. */
  readonly diffs: { options: DiffOptions; paths: string[] }[];
  sync(fail?: (call: string) => boolean): Promise<unknown>;
}

async function device(server: ModelServer, id: string): Promise<Device> {
  const root = await mkdtemp(join(tmpdir(), `resume-${id}-`));
  const state = StateDb.open(':memory:');
  const diffs: Device['diffs'] = [];
  return {
    root,
    state,
    diffs,
    sync: (fail = () => false) => {
      const inner = server.remoteFor(id, fail);
      // Records what the engine asked, then passes the call on.
      const remote: SyncRemote = {
        ...inner,
        diff: (ns: string, manifest: Iterable<ManifestEntry>, options?: DiffOptions) => {
          const entries = [...manifest];
          diffs.push({ options: options ?? {}, paths: entries.map((entry) => entry.path) });
          // 'after diff': the pass dies once its diff has answered (a kill during the transfers).
          return inner.diff(ns, entries, options).then((outcome) => {
            if (fail('after diff')) throw new InjectedFailure('injected failure after the diff');
            return outcome;
          });
        },
      };
      return syncFolder(root, 'ns', engineDeps({ state, blocks: server.blocks, remote, deviceLabel: id }), {
        force: true,
      });
    },
  };
}

async function put(root: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), text);
}

describe('a full diff that breaks off is resumed, not started over', () => {
  const made: Device[] = [];
  afterEach(async () => {
    for (const { root, state } of made.splice(0)) {
      state.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('resumes after the last progress, decides again what changed since, and loses nothing', async () => {
    const server = new ModelServer();
    const laptop = await device(server, 'laptop');
    const desktop = await device(server, 'desktop');
    made.push(laptop, desktop);
    for (let index = 0; index < FILES; index++) await put(laptop.root, name(index), `v1 ${index}`);
    await laptop.sync();

    // The desktop's first diff breaks off after its fourth progress report (12 of 40 paths).
    let reports = 0;
    await expect(desktop.sync((call) => call === 'diff midway' && ++reports === 4)).rejects.toThrow(
      InjectedFailure,
    );
    const checkpoint = desktop.state.diffCheckpoint(desktop.root);
    expect(checkpoint?.throughPath).toBe(name(11));
    expect(desktop.state.diffCheckpointEntries(desktop.root).size).toBe(12);

    // Meanwhile: a new file here before the resume point, an edit there before it and one after.
    await put(desktop.root, 'd/f000-mine.txt', 'mine');
    await put(laptop.root, name(3), 'v2 3');
    await put(laptop.root, name(30), 'v2 30');
    await laptop.sync();

    await desktop.sync();
    const resumed = desktop.diffs.at(-1)!;
    expect(resumed.options.resumeAfter).toBe(name(11));
    // Only what changed here at or before the resume point is named again; the rest follows it.
    expect(resumed.paths.filter((path) => path <= name(11))).toEqual(['d/f000-mine.txt']);
    expect(desktop.state.diffCheckpoint(desktop.root)).toBeUndefined();
    // The answers kept from the first part were applied: version 1 of f003 (the edit came later).
    expect(await readFile(join(desktop.root, name(0)), 'utf8')).toBe('v1 0');
    expect(await readFile(join(desktop.root, name(3)), 'utf8')).toBe('v1 3');
    expect(await readFile(join(desktop.root, name(30)), 'utf8')).toBe('v2 30');
    expect(server.liveTree().get('d/f000-mine.txt')).toBe('mine');

    // The pass's cursor is the first part's: the next pass hears of the edit of f003 from the journal.
    await desktop.sync();
    expect(desktop.diffs.at(-1)!.options.sinceCursor).toBeGreaterThan(0);
    expect(await readFile(join(desktop.root, name(3)), 'utf8')).toBe('v2 3');
    const tree = server.liveTree();
    for (const [path, text] of tree) expect(await readFile(join(desktop.root, path), 'utf8')).toBe(text);
  });

  it('never moves a checkpoint back when a resumed diff answers only a path before it', async () => {
    const server = new ModelServer();
    const laptop = await device(server, 'laptop');
    made.push(laptop);
    for (let index = 0; index < FILES; index++) await put(laptop.root, name(index), `v1 ${index}`);
    // The diff ends, the pass does not: the checkpoint holds every answer, through the last path.
    await expect(laptop.sync((call) => call === 'after diff')).rejects.toThrow(InjectedFailure);
    expect(laptop.state.diffCheckpoint(laptop.root)?.throughPath).toBe(name(FILES - 1));

    // A path sorting before all of them, then the same again: the resumed diff answers only it.
    await put(laptop.root, 'a-first.txt', 'first');
    await expect(laptop.sync((call) => call === 'after diff')).rejects.toThrow(InjectedFailure);
    expect(laptop.diffs.at(-1)!.options.resumeAfter).toBe(name(FILES - 1));
    expect(laptop.state.diffCheckpoint(laptop.root)?.throughPath).toBe(name(FILES - 1));

    // The next pass resumes after the last path still, names nothing kept again, and commits all.
    await laptop.sync();
    const last = laptop.diffs.at(-1)!;
    expect(last.options.resumeAfter).toBe(name(FILES - 1));
    expect(last.paths).toEqual([]);
    const tree = server.liveTree();
    expect(tree.size).toBe(FILES + 1);
    expect(tree.get('a-first.txt')).toBe('first');
  });

  it('starts whole when the ignore rules changed since the checkpoint', async () => {
    const server = new ModelServer();
    const laptop = await device(server, 'laptop');
    const desktop = await device(server, 'desktop');
    made.push(laptop, desktop);
    for (let index = 0; index < 10; index++) await put(laptop.root, name(index), `v1 ${index}`);
    await laptop.sync();
    let reports = 0;
    await expect(desktop.sync((call) => call === 'diff midway' && ++reports === 1)).rejects.toThrow(
      InjectedFailure,
    );
    expect(desktop.state.diffCheckpoint(desktop.root)).toBeDefined();
    await put(desktop.root, '.filesyncignore', '*.tmp\n');
    await desktop.sync();
    expect(desktop.diffs.at(-1)!.options.resumeAfter).toBeUndefined();
    expect(await readFile(join(desktop.root, name(0)), 'utf8')).toBe('v1 0');
  });
});
