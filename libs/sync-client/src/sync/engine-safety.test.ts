import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { nodeScanFileSystem, type ScanFileSystem } from '../scan/scanner';
import { StateDb } from '../state/state-db';
import { syncFolder, type SyncOptions } from './engine';
import type { SyncRemote } from './remote';
import { UNSAFE_PATH_REASONS } from './safe-path';
import { engineDeps, entry, MemoryBlocks, ScriptedRemote } from './testing/engine-fakes';
import type { ActionKind, DiffAction, ServerEntry } from './model';

function action(kind: ActionKind, path: string, server?: ServerEntry): DiffAction {
  return { path, kind, baseVersion: 0, server };
}

describe('the engine writes nothing it should not', () => {
  let root: string;
  let outside: string;
  let state: StateDb;
  let blocks: MemoryBlocks;
  let logged: { path?: string; reason?: string; msg: string }[];
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'engine-safety-'));
    outside = await mkdtemp(join(tmpdir(), 'engine-outside-'));
    state = StateDb.open(':memory:');
    blocks = new MemoryBlocks();
    logged = [];
  });
  afterEach(async () => {
    state.close();
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  const run = (remote: SyncRemote, scanFileSystem?: ScanFileSystem, options: SyncOptions = {}) =>
    syncFolder(
      root,
      'ns',
      engineDeps({
        state,
        blocks,
        remote,
        logger: pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) }),
        scanFileSystem,
      }),
      options,
    );

  const serverContent = (text: string) => blocks.seed(text);

  const skips = () =>
    logged.filter((line) => line.msg === 'path skipped').map(({ path, reason }) => ({ path, reason }));

  /** Replaces the real folder `docs` by a symlink to `outside/docs`, files and all. */
  async function swapDocsForSymlink(): Promise<void> {
    await rename(join(root, 'docs'), join(outside, 'docs'));
    await symlink(join(outside, 'docs'), join(root, 'docs'));
  }

  describe('kind 3: symlinks are never written through', () => {
    it('a download into a folder that became a symlink during the pass is skipped, not written outside', async () => {
      await mkdir(join(outside, 'docs'));
      const content = await serverContent('from the other device');
      const summary = await run(
        new ScriptedRemote(
          [
            action('download', 'docs/new.txt', entry('docs/new.txt', 1, content)),
            action('download', 'docs/deeper/new.txt', entry('docs/deeper/new.txt', 1, content)),
            action('download', 'fine.txt', entry('fine.txt', 1, content)),
          ],
          () => symlink(join(outside, 'docs'), join(root, 'docs')),
        ),
      );
      expect(await readdir(join(outside, 'docs'))).toEqual([]);
      expect(summary.filesDownloaded).toBe(1);
      expect(skips()).toEqual(
        expect.arrayContaining([
          { path: 'docs/new.txt', reason: UNSAFE_PATH_REASONS.symlinkOnPath },
          { path: 'docs/deeper/new.txt', reason: UNSAFE_PATH_REASONS.symlinkOnPath },
        ]),
      );
      expect(state.get(root, 'docs/new.txt')).toBeUndefined();
      expect((await readdir(root)).sort()).toEqual(['docs', 'fine.txt']);
    });

    it('a download does not replace a file that became a symlink during the pass', async () => {
      await writeFile(join(outside, 'target.txt'), 'outside');
      const content = await serverContent('server bytes');
      await run(
        new ScriptedRemote([action('download', 'a.txt', entry('a.txt', 1, content))], () =>
          symlink(join(outside, 'target.txt'), join(root, 'a.txt')),
        ),
      );
      expect(await readFile(join(outside, 'target.txt'), 'utf8')).toBe('outside');
      expect(skips()).toEqual([{ path: 'a.txt', reason: UNSAFE_PATH_REASONS.symlinkAtPath }]);
    });

    it('a local delete through a folder that became a symlink is skipped', async () => {
      await mkdir(join(root, 'docs'));
      await writeFile(join(root, 'docs', 'a.txt'), 'keep me');
      await run(
        new ScriptedRemote(
          [action('delete-local', 'docs/a.txt', entry('docs/a.txt', 2))],
          swapDocsForSymlink,
        ),
        undefined,
        // The only file going is a mass delete; confirmed, so that the symlink check is what stops it.
        { force: true },
      );
      expect(await readFile(join(outside, 'docs', 'a.txt'), 'utf8')).toBe('keep me');
      expect(skips()).toEqual([{ path: 'docs/a.txt', reason: UNSAFE_PATH_REASONS.symlinkOnPath }]);
    });

    it('a conflicted copy is not moved aside through a folder that became a symlink', async () => {
      await mkdir(join(root, 'docs'));
      await writeFile(join(root, 'docs', 'a.txt'), 'mine');
      const theirs = await serverContent('theirs');
      const remote = new ScriptedRemote(
        [action('conflict', 'docs/a.txt', entry('docs/a.txt', 2, theirs))],
        swapDocsForSymlink,
      );
      await run(remote);
      expect(await readdir(join(outside, 'docs'))).toEqual(['a.txt']);
      expect(await readFile(join(outside, 'docs', 'a.txt'), 'utf8')).toBe('mine');
      expect(remote.commits).toEqual([]);
      expect(skips()).toEqual([{ path: 'docs/a.txt', reason: UNSAFE_PATH_REASONS.symlinkOnPath }]);
    });
  });

  describe('kind 1: what the scan cannot see is never a deletion', () => {
    it('no download, local delete or conflict touches a folder the scan could not read', async () => {
      await mkdir(join(root, 'private'));
      await writeFile(join(root, 'private', 'a.txt'), 'local a');
      await writeFile(join(root, 'private', 'b.txt'), 'local b');
      const content = await serverContent('server bytes');
      const unreadable: ScanFileSystem = {
        ...nodeScanFileSystem,
        readdir: async (dir) => {
          if (dir === join(root, 'private'))
            throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
          return nodeScanFileSystem.readdir(dir);
        },
      };
      const remote = new ScriptedRemote([
        action('download', 'private/new.txt', entry('private/new.txt', 1, content)),
        action('delete-local', 'private/a.txt', entry('private/a.txt', 2)),
        action('conflict', 'private/b.txt', entry('private/b.txt', 2, content)),
        action('download', 'ok.txt', entry('ok.txt', 1, content)),
      ]);
      const summary = await run(remote, unreadable);
      expect((await readdir(join(root, 'private'))).sort()).toEqual(['a.txt', 'b.txt']);
      expect(await readFile(join(root, 'private', 'b.txt'), 'utf8')).toBe('local b');
      expect(remote.commits).toEqual([]);
      expect(summary).toMatchObject({ filesDownloaded: 1, deleted: 0, conflicts: 0 });
      expect(skips()).toEqual([{ path: 'private', reason: 'cannot read folder: EACCES: permission denied' }]);
    });

    it('a folder gone during the pass is not re-created by a download', async () => {
      const content = await serverContent('server bytes');
      const failure = await run(
        new ScriptedRemote([action('download', 'a/b.txt', entry('a/b.txt', 1, content))], () =>
          rm(root, { recursive: true }),
        ),
      ).catch((error: unknown) => error);
      expect(failure).toMatchObject({
        failures: [{ path: 'a/b.txt', reason: expect.stringContaining('is gone') }],
      });
      await expect(readdir(root)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});
