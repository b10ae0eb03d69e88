import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { uniqueEmail } from '@filesync/test-support';
import { nodeBinary, repoRootOf } from '@filesync/test-support/runner';
import { cli, scratchFolders, type CliResult } from './support/cli';
import { readTestStack } from './support/harness';
import { mixedFolder, treeDigest, writeTree } from './support/trees';

// Issue 9, "Installable": the client as people get it. `npm run pack:client` packs libs/sync-client,
// npm installs the tarball globally into an empty prefix with nothing but Node 24 on PATH, a new
// HOME (an empty npm cache) and no network, and the installed `filesync`, run from outside the
// repository, signs up and syncs a folder to a second device, byte-identical.

const run = promisify(execFile);
const stack = readTestStack();
const scratch = scratchFolders();
const root = repoRootOf();
/** More than two maximum-size blocks: hashed on the bundle's worker threads (worker-hasher.ts). */
const BIG_BYTES = 12 * 1024 * 1024;

afterAll(() => scratch.removeAll());

describe('the packed client, installed into an empty prefix', () => {
  let prefix: string;
  /** A machine without the repository: the pinned Node 24 first, then the system's tools. */
  let machine: NodeJS.ProcessEnv;
  let tarball: string;

  beforeAll(async () => {
    const { stdout } = await run(
      nodeBinary(root),
      [join(root, 'libs/sync-client/tools/pack.mjs'), scratch.dir('packs')],
      { cwd: root },
    );
    tarball = stdout.trim();
    const path = [
      dirname(realpathSync(nodeBinary(root))),
      ...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '' && !dir.startsWith(root)),
    ];
    machine = { HOME: scratch.dir('user-home'), PATH: path.join(delimiter) };
    prefix = scratch.dir('prefix');
    await run(
      'npm',
      ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
      { env: machine, cwd: prefix },
    );
  }, 120_000);

  const filesync = (...args: string[]): Promise<CliResult> =>
    cli(['--server', stack.server, ...args], {
      bin: join(prefix, 'bin', 'filesync'),
      env: machine,
      cwd: machine.HOME,
    });
  /** Its stdout when it exited 0; otherwise fails with everything it printed. */
  const succeeds = async (...args: string[]): Promise<string> => {
    const result = await filesync(...args);
    if (result.code !== 0)
      throw new Error(`filesync ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
    return result.stdout;
  };

  test('npm pack yields filesync-<version>.tgz; installed, it is the bundle alone, with no dependencies', () => {
    expect(basename(tarball)).toMatch(/^filesync-\d+\.\d+\.\d+\.tgz$/);
    expect(readdirSync(join(prefix, 'lib', 'node_modules'))).toEqual(['filesync']);
    const installed = join(prefix, 'lib', 'node_modules', 'filesync');
    expect(readdirSync(installed).sort()).toEqual(['bin', 'dist', 'package.json']);
    expect(readdirSync(join(installed, 'dist'))).toEqual(
      expect.arrayContaining(['filesync.mjs', 'hash-worker.mjs', 'THIRD-PARTY-NOTICES.txt']),
    );
    expect(existsSync(join(installed, 'node_modules'))).toBe(false);
  });

  test('`filesync --help` answers', async () => {
    expect(await succeeds('--help')).toContain('Usage: filesync');
  });

  test('signs up, syncs a folder, and a second device syncs it down byte-identical', async () => {
    const email = uniqueEmail('installed');
    const laptop = { home: scratch.dir('laptop-home'), folder: scratch.dir('laptop') };
    const desktop = { home: scratch.dir('desktop-home'), folder: join(scratch.dir('desktop'), 'docs') };
    const files = mixedFolder(BIG_BYTES);
    writeTree(laptop.folder, files);

    await succeeds('--home', laptop.home, 'signup', '--email', email, '--device', 'laptop');
    const up = await succeeds('--home', laptop.home, 'sync', laptop.folder, '--json');
    expect(JSON.parse(up)).toMatchObject({
      filesUploaded: Object.keys(files).length,
      skipped: [],
      failed: [],
    });

    await succeeds('--home', desktop.home, 'login', '--email', email, '--device', 'desktop');
    const down = await succeeds('--home', desktop.home, 'sync', desktop.folder, '--create', '--json');
    expect(JSON.parse(down)).toMatchObject({ filesDownloaded: Object.keys(files).length });
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
  });
});
