// Unit tests of incremental passes: the engine against a scripted fake of the server side
// (ScriptedRemote, no network) and a real temp folder. The service's half (the journal merge) is
// tested in sync-diff and against the real stack in libs/e2e.
import { utimesSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { FULL_DIFF_INTERVAL_MS, syncFolder } from './engine';
import type { ManifestEntry, ServerEntry } from './model';
import type { DiffOptions, DiffOutcome } from './remote';
import {
  act,
  closeEngineFolder,
  contentOf,
  engineDeps,
  entry,
  markSynced,
  openEngineFolder,
  runEngine,
  ScriptedRemote,
  type EngineFolder,
} from './testing/engine-fakes';
import { ModelServer } from './testing/model-server';

/** A scripted server whose Diff answers depend on the call: records every call's manifest and cursor. */
class DiffScript extends ScriptedRemote {
  readonly diffs: { paths: string[]; sinceCursor: number }[] = [];
  constructor(private readonly answer: (sinceCursor: number, paths: string[]) => Partial<DiffOutcome>) {
    super([]);
  }
  override async diff(_ns: string, manifest: Iterable<ManifestEntry>, options: DiffOptions = {}) {
    const entries = [...manifest];
    this.manifests.push(entries);
    const paths = entries.map((item) => item.path);
    const sinceCursor = options.sinceCursor ?? 0;
    this.diffs.push({ paths, sinceCursor });
    return { actions: [], cursor: 7, ...this.answer(sinceCursor, paths) };
  }
}

const download = (server: ServerEntry) => act('download', server.path, 0, server);

describe('incremental passes', () => {
  let folder: EngineFolder;
  beforeEach(async () => {
    folder = await openEngineFolder('engine-incremental');
  });
  afterEach(() => closeEngineFolder(folder));

  /** Three synced files and a first (full) pass that leaves cursor 7. */
  async function syncedFolder(): Promise<void> {
    for (const name of ['a.txt', 'b.txt', 'c.txt']) await markSynced(folder, name, `text of ${name}`, 1);
    const first = new DiffScript(() => ({}));
    await runEngine(folder, first);
    expect(first.diffs).toEqual([{ paths: ['a.txt', 'b.txt', 'c.txt'], sinceCursor: 0 }]);
  }

  it('after a full pass, names only what changed locally, with the cursor', async () => {
    await syncedFolder();
    await writeFile(join(folder.root, 'b.txt'), 'edited');
    await writeFile(join(folder.root, 'new.txt'), 'new');
    await rm(join(folder.root, 'c.txt'));
    const remote = new DiffScript(() => ({}));
    await runEngine(folder, remote);
    expect(remote.diffs).toEqual([{ paths: ['b.txt', 'c.txt', 'new.txt'], sinceCursor: 7 }]);
    expect(remote.manifests[0]!.find((item) => item.path === 'c.txt')).toMatchObject({ deleted: true });
  });

  it('a pass with nothing changed names nothing', async () => {
    await syncedFolder();
    const remote = new DiffScript(() => ({}));
    await runEngine(folder, remote);
    expect(remote.diffs).toEqual([{ paths: [], sinceCursor: 7 }]);
  });

  it('decides server changes to unnamed paths against its own base: its own version is no download', async () => {
    await syncedFolder();
    const newer = contentOf('from the other device');
    await folder.blocks.seed('from the other device');
    const remote = new DiffScript(() => ({
      actions: [
        // The version this device already has (its own commit, replayed by the journal).
        download(entry('a.txt', 1, contentOf('text of a.txt'))),
        download(entry('b.txt', 2, newer)),
        act('delete-local', 'c.txt', 0, entry('c.txt', 2)),
      ],
    }));
    const summary = await runEngine(folder, remote);
    expect(summary).toMatchObject({ filesDownloaded: 1, deleted: 1, conflicts: 0 });
    expect(await readFile(join(folder.root, 'b.txt'), 'utf8')).toBe('from the other device');
    expect(await readFile(join(folder.root, 'a.txt'), 'utf8')).toBe('text of a.txt');
    expect(folder.state.get(folder.root, 'c.txt')).toBeUndefined();
    expect(folder.state.pending(folder.root)).toEqual([]);
  });

  it('an action of a kind it does not know (a newer server) is skipped, changes nothing, and keeps the cursor so it is asked again', async () => {
    await syncedFolder();
    const logged: { path?: string; kind?: string; msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    // Journal paths the manifest did not name: no rule decides them again, least of all to delete.
    const remote = new DiffScript(() => ({
      unrecognized: [
        { path: 'c.txt', kind: '9' },
        { path: 'gone.txt', kind: 'ACTION_KIND_UNSPECIFIED' },
      ],
      cursor: 9,
    }));
    const { root, state, blocks } = folder;
    const summary = await syncFolder(root, 'ns', engineDeps({ state, blocks, remote, logger }));
    expect(summary).toMatchObject({ deleted: 0, filesDownloaded: 0, failed: [] });
    expect(summary.skipped.map((skipped) => skipped.path)).toEqual(['c.txt', 'gone.txt']);
    expect(summary.skipped[0]?.reason).toMatch(/does not know \(9\).*update filesync/);
    expect(state.folder(root)?.cursor).toBe(7);
    expect(await readFile(join(root, 'c.txt'), 'utf8')).toBe('text of c.txt');
    expect(state.get(root, 'c.txt')).toMatchObject({ baseVersion: 1 });
    expect(logged.filter((line) => line.msg === 'unknown diff action ignored')).toEqual([
      expect.objectContaining({ path: 'c.txt', kind: '9' }),
      expect.objectContaining({ path: 'gone.txt', kind: 'ACTION_KIND_UNSPECIFIED' }),
    ]);
  });

  it('an unnamed path edited after the scan is kept as a conflicted copy, not overwritten', async () => {
    await syncedFolder();
    await folder.blocks.seed('server edit');
    const remote = new DiffScript(() => {
      // The scan saw b.txt unchanged (so it was not named); it is edited before the download.
      writeFileSync(join(folder.root, 'b.txt'), 'local edit during the pass');
      utimesSync(join(folder.root, 'b.txt'), 1, 1);
      return { actions: [download(entry('b.txt', 2, contentOf('server edit')))] };
    });
    const summary = await runEngine(folder, remote);
    expect(summary.conflicts).toBe(1);
    expect(await readFile(join(folder.root, 'b.txt'), 'utf8')).toBe('server edit');
    const names = await readdir(folder.root);
    const copy = names.find((name) => name.startsWith('b (conflicted copy'));
    expect(copy).toBeDefined();
    expect(await readFile(join(folder.root, copy!), 'utf8')).toBe('local edit during the pass');
  });

  it('a server change that could not be applied stays pending and is named until it is', async () => {
    await syncedFolder();
    const newer = entry('b.txt', 2, contentOf('not in storage yet'));
    const failing = new DiffScript(() => ({ actions: [download(newer)] }));
    await expect(runEngine(folder, failing)).rejects.toMatchObject({ failures: [{ path: 'b.txt' }] });
    expect(folder.state.pending(folder.root)).toMatchObject([{ path: 'b.txt', version: 2 }]);
    expect(folder.state.folder(folder.root)?.cursor).toBe(7);

    // The journal has moved on (nothing new after the cursor), yet b.txt is named again.
    await folder.blocks.seed('not in storage yet');
    const retry = new DiffScript((_since, paths) => ({
      actions: paths.includes('b.txt') ? [download(newer)] : [],
      cursor: 9,
    }));
    await runEngine(folder, retry);
    expect(retry.diffs).toEqual([{ paths: ['b.txt'], sinceCursor: 7 }]);
    expect(await readFile(join(folder.root, 'b.txt'), 'utf8')).toBe('not in storage yet');
    expect(folder.state.pending(folder.root)).toEqual([]);
    expect(folder.state.folder(folder.root)?.cursor).toBe(9);
  });

  it('runs a full diff when the server asks for one', async () => {
    await syncedFolder();
    const remote = new DiffScript((since) =>
      since > 0 ? { fullDiffRequired: true, cursor: 0 } : { cursor: 12 },
    );
    await runEngine(folder, remote);
    expect(remote.diffs).toEqual([
      { paths: [], sinceCursor: 7 },
      { paths: ['a.txt', 'b.txt', 'c.txt'], sinceCursor: 0 },
    ]);
    expect(folder.state.folder(folder.root)?.cursor).toBe(12);
  });

  it('runs a full diff when the server does not know incremental diffs (a rolling deploy)', async () => {
    await syncedFolder();
    const remote = new DiffScript((since) => ({ incremental: false, cursor: since > 0 ? 8 : 9 }));
    await runEngine(folder, remote);
    expect(remote.diffs).toEqual([
      { paths: [], sinceCursor: 7 },
      { paths: ['a.txt', 'b.txt', 'c.txt'], sinceCursor: 0 },
    ]);
    expect(folder.state.folder(folder.root)?.cursor).toBe(9);
  });

  it('runs a full diff when the ignore rules changed, when asked to, and once a day', async () => {
    await syncedFolder();
    await writeFile(join(folder.root, '.filesyncignore'), '*.tmp\n');
    const afterRules = new DiffScript(() => ({}));
    await runEngine(folder, afterRules);
    expect(afterRules.diffs[0]!.sinceCursor).toBe(0);

    const incremental = new DiffScript(() => ({}));
    await runEngine(folder, incremental);
    expect(incremental.diffs[0]!.sinceCursor).toBe(7);

    const asked = new DiffScript(() => ({}));
    await runEngine(folder, asked, { full: true });
    expect(asked.diffs[0]!.sinceCursor).toBe(0);

    const realNow = Date.now;
    Date.now = () => realNow() + FULL_DIFF_INTERVAL_MS + 1;
    try {
      const nextDay = new DiffScript(() => ({}));
      await runEngine(folder, nextDay);
      expect(nextDay.diffs[0]!.sinceCursor).toBe(0);
    } finally {
      Date.now = realNow;
    }
  });

  it('keeps the cursor where it was when the mass-delete guard stops the pass', async () => {
    await syncedFolder();
    const remote = new DiffScript(() => ({
      cursor: 20,
      actions: ['a.txt', 'b.txt', 'c.txt'].map((path) => act('delete-local', path, 0, entry(path, 2))),
    }));
    await expect(runEngine(folder, remote)).rejects.toMatchObject({ name: 'MassDeleteError' });
    expect(folder.state.folder(folder.root)?.cursor).toBe(7);
    expect(await readFile(join(folder.root, 'a.txt'), 'utf8')).toBe('text of a.txt');
  });
});

describe('the cursor after a pass that committed', () => {
  let folder: EngineFolder;
  beforeEach(async () => {
    folder = await openEngineFolder('engine-cursor');
  });
  afterEach(() => closeEngineFolder(folder));

  const pass = (server: ModelServer, device: string) =>
    syncFolder(
      folder.root,
      'ns',
      engineDeps({ state: folder.state, blocks: server.blocks, remote: server.remoteFor(device) }),
      { force: true },
    );

  it('moves past its own commits, so the next pass does not hear of them again', async () => {
    const server = new ModelServer();
    for (const name of ['a', 'b', 'c']) await writeFile(join(folder.root, name), `text of ${name}`);
    await pass(server, 'laptop');
    expect(server.head).toBe(3);
    expect(folder.state.folder(folder.root)?.cursor).toBe(3);
  });

  it('stops before a commit of anyone else, which the next pass then applies', async () => {
    const server = new ModelServer();
    await writeFile(join(folder.root, 'a'), 'text of a');
    await pass(server, 'laptop');
    // Another device commits between this device's diff and its commit: simulated by a remote
    // whose diff answer is taken before the other device's commit lands.
    await writeFile(join(folder.root, 'b'), 'text of b');
    const other = server.remoteFor('desktop');
    await server.blocks.seed('from the desktop');
    const laptop = server.remoteFor('laptop');
    const racing = {
      ...laptop,
      diff: async (...args: Parameters<typeof laptop.diff>) => {
        const answer = await laptop.diff(...args);
        await other.commitFiles('ns', [
          { path: 'c', baseVersion: 0, modifiedAtMs: 1, content: contentOf('from the desktop') },
        ]);
        return answer;
      },
    };
    await syncFolder(
      folder.root,
      'ns',
      engineDeps({ state: folder.state, blocks: server.blocks, remote: racing }),
    );
    // a (seq 1), then the desktop's c (seq 2), then this pass's b (seq 3): the cursor stays at 1.
    expect(folder.state.folder(folder.root)?.cursor).toBe(1);
    await pass(server, 'laptop');
    expect(await readFile(join(folder.root, 'c'), 'utf8')).toBe('from the desktop');
    expect(folder.state.folder(folder.root)?.cursor).toBe(3);
  });
});

describe('storage is made ready only when bytes may move (BlockStore.prepare)', () => {
  let folder: EngineFolder;
  beforeEach(async () => {
    folder = await openEngineFolder('engine-prepare');
    await markSynced(folder, 'a.txt', 'text of a', 1);
    await markSynced(folder, 'b.txt', 'text of b', 1);
  });
  afterEach(() => closeEngineFolder(folder));

  it('not by a pass with nothing to do', async () => {
    await runEngine(folder, new DiffScript(() => ({})));
    expect(folder.blocks.prepared).toBe(0);
  });

  it('once, during the scan, when the scan reads a changed file; the upload then goes through', async () => {
    await writeFile(join(folder.root, 'a.txt'), 'a new text of a');
    await writeFile(join(folder.root, 'c.txt'), 'a new file');
    let preparedAtDiff = -1;
    const remote = new DiffScript(() => {
      preparedAtDiff = folder.blocks.prepared;
      return {
        actions: [act('upload', 'a.txt', 1), act('upload', 'c.txt', 0)],
      };
    });
    const summary = await runEngine(folder, remote);
    expect(preparedAtDiff).toBe(1);
    expect(folder.blocks.prepared).toBe(1);
    expect(summary.filesUploaded).toBe(2);
    expect(remote.commits.map((change) => change.path).sort()).toEqual(['a.txt', 'c.txt']);
  });

  it('not by a dry run, though it reads the changed file', async () => {
    await writeFile(join(folder.root, 'a.txt'), 'a new text of a');
    await runEngine(folder, new DiffScript(() => ({ actions: [act('upload', 'a.txt', 1)] })), {
      dryRun: true,
    });
    expect(folder.blocks.prepared).toBe(0);
  });

  it('after the diff when it brings a download', async () => {
    const server = entry('d.txt', 3, await folder.blocks.seed('from elsewhere'));
    await runEngine(folder, new DiffScript(() => ({ actions: [download(server)] })));
    expect(folder.blocks.prepared).toBe(1);
    expect(await readFile(join(folder.root, 'd.txt'), 'utf8')).toBe('from elsewhere');
  });
});

describe('a folder synced with another namespace (this home signed in to another account or deployment)', () => {
  let folder: EngineFolder;
  beforeEach(async () => {
    folder = await openEngineFolder('engine-other-namespace');
    for (const name of ['a.txt', 'b.txt']) await markSynced(folder, name, `text of ${name}`, 1);
    await runEngine(folder, new DiffScript(() => ({})));
    expect(folder.state.folderRecord(folder.root)).toMatchObject({ namespaceId: 'ns', cursor: 7 });
  });
  afterEach(() => closeEngineFolder(folder));

  const passIn = (namespaceId: string, remote: DiffScript, dryRun: boolean) =>
    syncFolder(
      folder.root,
      namespaceId,
      engineDeps({ state: folder.state, blocks: folder.blocks, remote }),
      dryRun ? { dryRun } : {},
    );

  // Its synced base (version 1 of a.txt) says nothing of the other namespace's version 1 of
  // a.txt: named as the base, this folder's content would commit over that one without a conflict.
  for (const dryRun of [false, true]) {
    it(`is a first sync there: a full diff naming no synced base${dryRun ? ' (a dry run too)' : ''}`, async () => {
      const remote = new DiffScript(() => ({}));
      await passIn('other', remote, dryRun);
      expect(remote.diffs).toEqual([{ paths: ['a.txt', 'b.txt'], sinceCursor: 0 }]);
      for (const item of remote.manifests[0]!) {
        expect(item).toMatchObject({ baseVersion: 0, baseContentHash: '', deleted: false });
      }
    });
  }

  it('keeps the hash cache, and a dry run changes nothing of the state', async () => {
    await passIn('other', new DiffScript(() => ({})), true);
    expect(folder.state.folderRecord(folder.root)).toMatchObject({ namespaceId: 'ns', cursor: 7 });
    expect(folder.state.files(folder.root).get('a.txt')).toMatchObject({ baseVersion: 1 });
    await passIn('other', new DiffScript(() => ({})), false);
    expect(folder.state.folderRecord(folder.root)?.namespaceId).toBe('other');
    const row = folder.state.files(folder.root).get('a.txt');
    expect(row).toMatchObject({
      baseVersion: 0,
      baseContentHash: '',
      contentHash: contentOf('text of a.txt').contentHash,
    });
  });
});
