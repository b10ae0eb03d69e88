import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateDb } from '../state/state-db';
import { UNSAFE_PATH_REASONS } from './safe-path';
import type { SyncOptions } from './engine';
import type { RejectionReason } from './model';
import type { SyncRemote } from './remote';
import { MassDeleteError, SyncIncompleteError, type SyncSummary } from './summary';
import {
  act,
  closeEngineFolder,
  entry,
  markSynced,
  openEngineFolder,
  runEngine,
  ScriptedRemote,
  type MemoryBlocks,
} from './testing/engine-fakes';

// Issue 6 on the engine: per-path faults (kinds 2, 4, 5, 6, 7) against a scripted fake of the
// SyncRemote port.

const COPY = '(conflicted copy laptop 2026-01-02 030405)';

function rejection(reason: RejectionReason, clashingPath = '') {
  return { reason, message: `rejected (${reason})`, clashingPath };
}

describe('engine faults (issue 6)', () => {
  let root: string;
  let state: StateDb;
  let blocks: MemoryBlocks;
  beforeEach(async () => ({ root, state, blocks } = await openEngineFolder('engine-faults')));
  afterEach(() => closeEngineFolder({ root, state, blocks }));

  const run = (remote: SyncRemote, options: SyncOptions = {}) =>
    runEngine({ root, state, blocks }, remote, options);

  const onServer = (text: string) => blocks.seed(text);

  /** A local file this device synced at `version` and has not changed since. */
  const synced = (path: string, text: string, version = 1) =>
    markSynced({ root, state, blocks }, path, text, version);

  async function tree(dir = root, prefix = ''): Promise<Record<string, string>> {
    const files: Record<string, string> = {};
    for (const item of await readdir(dir, { withFileTypes: true })) {
      const path = `${prefix}${item.name}`;
      if (item.isDirectory()) Object.assign(files, await tree(join(dir, item.name), `${path}/`));
      else files[path] = await readFile(join(dir, item.name), 'utf8');
    }
    return files;
  }

  describe('kind 2: the mass-delete guard stops a pass before it commits anything', () => {
    const emptied = () =>
      new ScriptedRemote([
        act('upload', 'new.txt', 0),
        act('delete-remote', 'a.txt', 1),
        act('delete-remote', 'b.txt', 1),
        act('delete-remote', 'c.txt', 1),
      ]);

    beforeEach(async () => {
      for (const name of ['a.txt', 'b.txt', 'c.txt']) await synced(name, name);
      for (const name of ['a.txt', 'b.txt', 'c.txt']) await rm(join(root, name));
      await writeFile(join(root, 'new.txt'), 'new');
    });

    it('a pass deleting all 3 synced files stops with nothing committed and the state kept', async () => {
      const remote = emptied();
      const error = await run(remote).catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(MassDeleteError);
      expect(error).toMatchObject({ paths: ['a.txt', 'b.txt', 'c.txt'], live: 3, refusedByServer: false });
      expect((error as Error).message).toMatch(
        /would delete 3 of 3 synced files.*3 are missing from this folder \(a\.txt, b\.txt, c\.txt\).*--force/,
      );
      expect(remote.options).toEqual([]);
      expect(state.get(root, 'a.txt')).toMatchObject({ baseVersion: 1 });
      expect(state.folders()[0]).toMatchObject({ cursor: 0 });
    });

    it('--force commits the deletions with the confirmation', async () => {
      const remote = emptied();
      const summary = await run(remote, { force: true });
      expect(summary.deleted).toBe(3);
      expect(remote.commits.map((change) => change.path).sort()).toEqual([
        'a.txt',
        'b.txt',
        'c.txt',
        'new.txt',
      ]);
      // The deletions commit at once, the upload once its blocks are stored: every call confirms.
      expect(remote.options.length).toBeGreaterThan(0);
      for (const options of remote.options) expect(options).toEqual({ confirmMassDelete: true });
    });

    it('never confirms without --force, and --max-delete lowers the bar', async () => {
      await synced('d.txt', 'd');
      const one = new ScriptedRemote([act('delete-remote', 'a.txt', 1)]);
      await run(one);
      expect(one.options).toEqual([{ confirmMassDelete: false }]);
      const two = new ScriptedRemote([act('delete-remote', 'b.txt', 1), act('delete-remote', 'c.txt', 1)]);
      await expect(run(two, { maxDelete: 1 })).rejects.toThrow(MassDeleteError);
      expect(two.options).toEqual([]);
    });

    it('guards deletions of local files coming from the server the same way', async () => {
      for (const name of ['a.txt', 'b.txt', 'c.txt']) await synced(name, name);
      const remote = new ScriptedRemote(
        ['a.txt', 'b.txt', 'c.txt'].map((path) => act('delete-local', path, 0, entry(path, 2))),
      );
      await expect(run(remote)).rejects.toThrow(MassDeleteError);
      expect(Object.keys(await tree()).sort()).toEqual(['a.txt', 'b.txt', 'c.txt', 'new.txt']);
      expect((await run(remote, { force: true })).deleted).toBe(3);
    });

    it('a deletion the server refuses is reported the same way and stays proposed', async () => {
      for (const name of ['b.txt', 'c.txt']) await synced(name, name);
      const remote = new ScriptedRemote([act('upload', 'new.txt', 0), act('delete-remote', 'a.txt', 1)]);
      remote.rejections.set('a.txt', rejection('mass-delete'));
      const error = await run(remote).catch((failure: unknown) => failure);
      expect(error).toMatchObject({ paths: ['a.txt'], refusedByServer: true });
      expect((error as MassDeleteError).summary.filesUploaded).toBe(1);
      // The base stays: the next scan sees the file gone again and proposes the same deletion.
      expect(state.get(root, 'a.txt')).toMatchObject({ baseVersion: 1 });
    });
  });

  describe('a pass stopped by its signal (Ctrl-C of a --watch) stops at the next safe point', () => {
    it('stopped during the commit: what was committed stays, nothing is downloaded or deleted, the cursor stays, the next pass finishes', async () => {
      await synced('stays.txt', 'stays');
      await synced('gone.txt', 'gone');
      await writeFile(join(root, 'up.txt'), 'up');
      const content = await onServer('from elsewhere');
      const controller = new AbortController();
      class StoppedDuringCommit extends ScriptedRemote {
        override async commitFiles(...args: Parameters<ScriptedRemote['commitFiles']>) {
          const outcome = await super.commitFiles(...args);
          controller.abort(new Error('stopped'));
          return outcome;
        }
      }
      // A function: the engine empties the array a diff answered once it has queued its actions.
      const actions = () => [
        act('upload', 'up.txt', 0),
        act('delete-local', 'gone.txt', 1, { ...entry('gone.txt', 2, undefined), deleted: true }),
        act('download', 'down.txt', 0, entry('down.txt', 4, content)),
      ];
      const stopped = new StoppedDuringCommit(actions());
      await expect(run(stopped, { signal: controller.signal })).rejects.toThrow('stopped');
      expect(stopped.commits.map((change) => change.path)).toEqual(['up.txt']);
      expect(await tree()).toEqual({ 'stays.txt': 'stays', 'gone.txt': 'gone', 'up.txt': 'up' });
      expect(state.folders()[0]?.cursor ?? 0).toBe(0);

      // The next pass: the server's answer as it would be now (up.txt committed).
      const summary = await run(new ScriptedRemote(actions().slice(1)));
      expect(summary).toMatchObject({ filesDownloaded: 1, deleted: 1 });
      expect(await tree()).toEqual({ 'stays.txt': 'stays', 'up.txt': 'up', 'down.txt': 'from elsewhere' });
    });
  });

  describe('kind 7: one bad path never blocks the others', () => {
    // Deleting every synced file would be a mass delete: keep one that stays.
    beforeEach(() => synced('stays.txt', 'stays'));

    it('a path the server rejects is reported; the others commit and download', async () => {
      await writeFile(join(root, 'good.txt'), 'good');
      await writeFile(join(root, 'bad.txt'), 'bad');
      const content = await onServer('from elsewhere');
      const remote = new ScriptedRemote([
        act('upload', 'bad.txt', 0),
        act('upload', 'good.txt', 0),
        act('download', 'down.txt', 0, entry('down.txt', 4, content)),
      ]);
      remote.rejections.set('bad.txt', rejection('invalid-change'));
      const error = (await run(remote).catch((failure: unknown) => failure)) as SyncIncompleteError;
      expect(error).toBeInstanceOf(SyncIncompleteError);
      expect(error.failures).toEqual([
        { path: 'bad.txt', reason: expect.stringContaining('rejected (invalid-change)') },
      ]);
      expect(error.summary).toMatchObject({ filesUploaded: 1, filesDownloaded: 1, failed: error.failures });
      expect(remote.commits.map((change) => change.path)).toEqual(['good.txt']);
      expect(await readFile(join(root, 'down.txt'), 'utf8')).toBe('from elsewhere');
      expect(state.get(root, 'bad.txt')).toMatchObject({ baseVersion: 0 });
    });

    it('a commit call that fails as a whole still lets every download and deletion through', async () => {
      await writeFile(join(root, 'up.txt'), 'up');
      await synced('gone.txt', 'gone');
      const content = await onServer('from elsewhere');
      const remote = new ScriptedRemote([
        act('upload', 'up.txt', 0),
        act('download', 'down.txt', 0, entry('down.txt', 4, content)),
        act('delete-local', 'gone.txt', 0, entry('gone.txt', 2)),
      ]);
      remote.failCallsWith = new Error('UNAVAILABLE: connection reset');
      const error = (await run(remote).catch((failure: unknown) => failure)) as SyncIncompleteError;
      expect(error.failures).toEqual([
        { path: 'up.txt', reason: expect.stringContaining('connection reset') },
      ]);
      expect(await tree()).toEqual({ 'down.txt': 'from elsewhere', 'stays.txt': 'stays', 'up.txt': 'up' });
      expect(error.summary).toMatchObject({ filesDownloaded: 1, deleted: 1 });
    });
  });

  describe('kind 4: a file and a folder at the same path converge in one pass', () => {
    // Deleting every synced file would be a mass delete: keep one that stays.
    beforeEach(() => synced('stays.txt', 'stays'));

    it('file `notes` replaced by folder `notes/`: the file goes before the folder arrives', async () => {
      await synced('notes', 'old notes');
      const content = await onServer('part one');
      const summary = await run(
        new ScriptedRemote([
          act('delete-local', 'notes', 0, entry('notes', 2)),
          act('download', 'notes/part1.txt', 0, entry('notes/part1.txt', 1, content)),
        ]),
      );
      expect(summary).toMatchObject({ deleted: 1, filesDownloaded: 1, failed: [] });
      expect(await tree()).toEqual({ 'notes/part1.txt': 'part one', 'stays.txt': 'stays' });
    });

    it('folder `x/` replaced by file `x`: the files below and the emptied folder go first', async () => {
      await synced('x/a.txt', 'a');
      await synced('x/deeper/b.txt', 'b');
      const content = await onServer('now a file');
      const summary = await run(
        new ScriptedRemote([
          act('delete-local', 'x/a.txt', 0, entry('x/a.txt', 2)),
          act('delete-local', 'x/deeper/b.txt', 0, entry('x/deeper/b.txt', 2)),
          act('download', 'x', 0, entry('x', 1, content)),
        ]),
      );
      expect(summary).toMatchObject({ deleted: 2, filesDownloaded: 1, failed: [] });
      expect(await tree()).toEqual({ 'stays.txt': 'stays', x: 'now a file' });
    });

    it('a local folder clashing with a server file moves aside whole and uploads there; the file downloads', async () => {
      await mkdir(join(root, 'plan'));
      await writeFile(join(root, 'plan', 'ch1.txt'), 'chapter 1');
      await writeFile(join(root, 'plan', 'ch2.txt'), 'chapter 2');
      await mkdir(join(root, 'plan', 'Cafe\u0301'));
      await writeFile(join(root, 'plan', 'Cafe\u0301', 'ch3.txt'), 'chapter 3');
      const content = await onServer('the plan');
      const remote = new ScriptedRemote([
        act('download', 'plan', 0, entry('plan', 1, content)),
        act('upload', 'plan/ch1.txt', 0),
        act('upload', 'plan/ch2.txt', 0),
        act('upload', 'plan/Caf\u00e9/ch3.txt', 0),
      ]);
      for (const path of ['plan/ch1.txt', 'plan/ch2.txt', 'plan/Caf\u00e9/ch3.txt'])
        remote.rejections.set(path, rejection('path-clash', 'plan'));
      const summary = await run(remote);
      expect(await tree()).toEqual({
        plan: 'the plan',
        'stays.txt': 'stays',
        [`plan ${COPY}/ch1.txt`]: 'chapter 1',
        [`plan ${COPY}/ch2.txt`]: 'chapter 2',
        [`plan ${COPY}/Cafe\u0301/ch3.txt`]: 'chapter 3',
      });
      expect(remote.commits.map((change) => change.path).sort()).toEqual([
        `plan ${COPY}/Caf\u00e9/ch3.txt`,
        `plan ${COPY}/ch1.txt`,
        `plan ${COPY}/ch2.txt`,
      ]);
      expect(summary).toMatchObject({ conflicts: 1, filesUploaded: 3, filesDownloaded: 1, failed: [] });
      expect(state.get(root, 'plan/ch1.txt')).toBeUndefined();
      expect(state.get(root, `plan ${COPY}/ch1.txt`)).toMatchObject({ baseVersion: 1 });
    });

    it('a local file clashing with a server folder becomes a conflicted copy; the folder downloads', async () => {
      await writeFile(join(root, 'notes.md'), 'my notes');
      const content = await onServer('part one');
      const remote = new ScriptedRemote([
        act('upload', 'notes.md', 0),
        act('download', 'notes.md/part1.txt', 0, entry('notes.md/part1.txt', 1, content)),
      ]);
      remote.rejections.set('notes.md', rejection('path-clash', 'notes.md/part1.txt'));
      const summary = await run(remote);
      expect(await tree()).toEqual({
        [`notes ${COPY}.md`]: 'my notes',
        'notes.md/part1.txt': 'part one',
        'stays.txt': 'stays',
      });
      expect(remote.commits.map((change) => change.path)).toEqual([`notes ${COPY}.md`]);
      expect(summary).toMatchObject({ conflicts: 1, filesUploaded: 1, filesDownloaded: 1, failed: [] });
    });

    it('what is left of a folder a server file replaces moves aside whole; an empty folder just goes', async () => {
      await writeFile(join(root, '.filesyncignore'), '*.log\n');
      await synced('x/a.txt', 'a');
      await writeFile(join(root, 'x', 'debug.log'), 'ignored, never synced');
      await mkdir(join(root, 'y'));
      const x = await onServer('x is a file now');
      const y = await onServer('y is a file');
      const summary = await run(
        new ScriptedRemote([
          act('delete-local', 'x/a.txt', 0, entry('x/a.txt', 2)),
          act('download', 'x', 0, entry('x', 3, x)),
          act('download', 'y', 0, entry('y', 1, y)),
        ]),
      );
      expect(summary).toMatchObject({ deleted: 1, filesDownloaded: 2, conflicts: 1, failed: [] });
      expect(await tree()).toEqual({
        '.filesyncignore': '*.log\n',
        'stays.txt': 'stays',
        x: 'x is a file now',
        [`x ${COPY}/debug.log`]: 'ignored, never synced',
        y: 'y is a file',
      });
    });

    it('a changed local file is never removed to make room: kept, and only that download fails', async () => {
      await synced('notes', 'old notes');
      const content = await onServer('part one');
      const remote = new ScriptedRemote(
        [
          act('delete-local', 'notes', 0, entry('notes', 2)),
          act('download', 'notes/part1.txt', 0, entry('notes/part1.txt', 1, content)),
        ],
        // Edited after the scan saw it unchanged (and the diff said delete-local).
        () => writeFile(join(root, 'notes'), 'edited during the pass'),
      );
      // The kept file stands where the download needs a folder: that path is skipped, not written.
      const summary = await run(remote);
      expect(summary.skipped).toEqual([
        { path: 'notes/part1.txt', reason: UNSAFE_PATH_REASONS.notAFolderOnPath },
      ]);
      expect(await tree()).toEqual({ notes: 'edited during the pass', 'stays.txt': 'stays' });
    });
  });

  describe('kind 5: names', () => {
    it('a download goes into the existing folder whatever its normalisation on disk', async () => {
      const nfd = 'Cafe\u0301';
      await mkdir(join(root, nfd));
      await writeFile(join(root, nfd, 'menu.txt'), 'menu');
      const content = await onServer('dessert');
      const path = `${nfd.normalize('NFC')}/crème.txt`;
      await run(new ScriptedRemote([act('download', path, 0, entry(path, 1, content))]));
      expect(await readdir(root)).toEqual([nfd]);
      expect((await readdir(join(root, nfd))).sort()).toEqual(['crème.txt', 'menu.txt']);
    });

    it('a conflict on a 240-byte name keeps the copy within 255 bytes', async () => {
      const name = `${'n'.repeat(236)}.txt`;
      await writeFile(join(root, name), 'mine');
      const server = await onServer('theirs');
      const remote = new ScriptedRemote([act('conflict', name, 1, entry(name, 2, server))]);
      const summary = await run(remote);
      expect(summary).toMatchObject({ conflicts: 1, filesUploaded: 1, filesDownloaded: 1 });
      const copy = (await readdir(root)).find((file) => file !== name)!;
      expect(Buffer.byteLength(copy)).toBeLessThanOrEqual(255);
      expect(copy.endsWith(`${COPY}.txt`)).toBe(true);
    });

    it('names the rules refuse are listed as skipped in the summary, with the reason', async () => {
      await writeFile(join(root, 'line\nbreak.txt'), 'x');
      await writeFile(join(root, 'back\\slash.txt'), 'x');
      await writeFile(join(root, 'c:notes.txt'), 'x');
      await writeFile(
        Buffer.concat([Buffer.from(`${root}/bad`), Buffer.from([0xff]), Buffer.from('.txt')]),
        'x',
      );
      const remote = new ScriptedRemote([act('upload', 'c:notes.txt', 0)]);
      const summary: SyncSummary = await run(remote);
      expect(summary.skipped).toEqual(
        expect.arrayContaining([
          { path: 'line\nbreak.txt', reason: expect.stringContaining('control character') },
          { path: 'back\\slash.txt', reason: expect.stringContaining('backslash') },
          { path: 'bad\\xff.txt', reason: expect.stringContaining('not valid UTF-8') },
        ]),
      );
      expect(summary.filesUploaded).toBe(1);
    });
  });

  describe('kind 6: any modification time round-trips, zero and before 1970 included', () => {
    it.each([
      ['zero (1970-01-01)', 0],
      ['before 1970', Date.UTC(1960, 0, 1)],
    ])('downloads keep %s', async (_name, mtimeMs) => {
      const content = await onServer(`dated ${mtimeMs}`);
      await run(new ScriptedRemote([act('download', 'old.txt', 0, entry('old.txt', 1, content, mtimeMs))]));
      expect((await stat(join(root, 'old.txt'))).mtimeMs).toBe(mtimeMs);
    });

    it('uploads send zero and negative times as they are', async () => {
      await writeFile(join(root, 'zero.txt'), 'z');
      await writeFile(join(root, 'old.txt'), 'o');
      await utimes(join(root, 'zero.txt'), 0, 0);
      // A Date, not seconds: Node reads a negative number of seconds as "now".
      await utimes(join(root, 'old.txt'), new Date(Date.UTC(1960, 0, 1)), new Date(Date.UTC(1960, 0, 1)));
      const remote = new ScriptedRemote([act('upload', 'zero.txt', 0), act('upload', 'old.txt', 0)]);
      await run(remote);
      expect(Object.fromEntries(remote.commits.map((change) => [change.path, change.modifiedAtMs]))).toEqual({
        'zero.txt': 0,
        'old.txt': Date.UTC(1960, 0, 1),
      });
    });
  });
});
