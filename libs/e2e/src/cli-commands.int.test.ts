import { readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { EXIT, FilesyncClient } from '@filesync/sync-client';
import { TEST_PASSWORD, uniqueEmail, verificationCode } from '@filesync/test-support';
import { repoRootOf } from '@filesync/test-support/runner';
import { cli, scratchFolders, type CliResult } from './support/cli';
import { readTestStack } from './support/harness';
import { treeDigest, writeTree } from './support/trees';

// Issue 9, "the commands users reach for", run as a user runs them: the `filesync` binary against
// the real local stack, judged by exit code, stdout and stderr.

const stack = readTestStack();
const scratch = scratchFolders();
const clients: FilesyncClient[] = [];

afterAll(async () => {
  for (const client of clients) await client.close();
  scratch.removeAll();
});

interface Device {
  readonly home: string;
  readonly folder: string;
  readonly client: FilesyncClient;
  cli(...args: string[]): Promise<CliResult>;
}

async function devices(label: string, names: readonly string[]): Promise<Device[]> {
  const email = uniqueEmail(label);
  const made: Device[] = [];
  for (const [index, name] of names.entries()) {
    const home = scratch.dir(`${label}-${name}-home`);
    const client = await FilesyncClient.open({ home, server: stack.server });
    clients.push(client);
    if (index === 0) await client.signup(email, TEST_PASSWORD, name);
    else await client.login(email, TEST_PASSWORD, name);
    made.push({
      home,
      folder: scratch.dir(`${label}-${name}`),
      client,
      cli: (...args) => cli(['--server', stack.server, '--home', home, ...args]),
    });
  }
  return made;
}

/** Every row of every table of a home's state database: what a pass reads of it. */
function stateDump(home: string): Record<string, unknown[]> {
  const db = new DatabaseSync(join(home, 'state.db'), { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    return Object.fromEntries(
      tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY 1, 2`).all()]),
    );
  } finally {
    db.close();
  }
}

const json = (result: CliResult) => JSON.parse(result.stdout) as Record<string, unknown>;

/** Waits for `check` to hold, trying every 500 ms for up to `ms` (a busy CI machine is slow). */
async function eventually<T>(
  attempt: () => Promise<T>,
  check: (value: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await attempt();
    if (check(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('filesync --version', () => {
  test('prints the package version', async () => {
    const { version } = JSON.parse(
      readFileSync(join(repoRootOf(), 'libs/sync-client/package.json'), 'utf8'),
    ) as {
      version: string;
    };
    const result = await cli(['--version']);
    expect(result).toEqual({ code: EXIT.success, stdout: `${version}\n`, stderr: '' });
  });
});

describe('filesync sync --dry-run', () => {
  test('lists every kind of change and changes nothing: the real pass after it does what it listed', async () => {
    const [laptop, desktop] = await devices('dry-run', ['laptop', 'desktop']);
    writeTree(laptop!.folder, {
      'keep.txt': 'keep\n',
      'gone-here.txt': 'deleted on the desktop\n',
      'gone-there.txt': 'deleted on the laptop\n',
      'both.txt': 'base\n',
    });
    await laptop!.client.sync(laptop!.folder);
    await desktop!.client.sync(desktop!.folder);
    writeTree(laptop!.folder, { 'both.txt': 'laptop edit\n', 'new-there.txt': 'from the laptop\n' });
    rmSync(join(laptop!.folder, 'gone-there.txt'));
    await laptop!.client.sync(laptop!.folder);
    writeTree(desktop!.folder, { 'both.txt': 'desktop edit\n', 'new-here.txt': 'from the desktop\n' });
    rmSync(join(desktop!.folder, 'gone-here.txt'));

    const stateBefore = stateDump(desktop!.home);
    const treeBefore = treeDigest(desktop!.folder);
    const dry = await desktop!.cli('sync', desktop!.folder, '--dry-run', '--json');
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(EXIT.success);
    expect(json(dry).plan).toEqual({
      upload: ['new-here.txt'],
      download: ['new-there.txt'],
      deleteLocal: ['gone-there.txt'],
      deleteRemote: ['gone-here.txt'],
      conflicts: ['both.txt'],
      uploadBytes: 'from the desktop\n'.length,
      downloadBytes: 'from the laptop\n'.length,
    });
    expect(json(dry)).toMatchObject({ filesUploaded: 0, filesDownloaded: 0, deleted: 0, uploadedBytes: 0 });
    const human = await desktop!.cli('sync', desktop!.folder, '--dry-run');
    expect(human.code).toBe(EXIT.success);
    expect(human.stdout).toContain('Dry run: nothing was changed');
    expect(human.stdout).toContain('keep as conflicted copies (changed on both sides) (1):\n  both.txt');

    // Nothing moved: the folder, the state (cursor, hash cache, bindings) and the server. The
    // laptop's own dry run sees nothing new, so the desktop uploaded and deleted nothing.
    expect(treeDigest(desktop!.folder)).toEqual(treeBefore);
    expect(stateDump(desktop!.home)).toEqual(stateBefore);
    const laptopView = await laptop!.cli('sync', laptop!.folder, '--dry-run', '--json');
    expect(json(laptopView).plan).toMatchObject({ download: [], deleteLocal: [], conflicts: [] });

    const real = await desktop!.cli('sync', desktop!.folder, '--json');
    expect(real.code).toBe(EXIT.success);
    const summary = json(real);
    // Downloaded: the new file and the server's side of the conflict.
    expect(summary).toMatchObject({ filesDownloaded: 2, deleted: 2, conflicts: 1, failed: [], skipped: [] });
    expect(summary.conflicted).toEqual([
      { path: 'both.txt', copy: expect.stringMatching(/^both \(conflicted copy desktop .*\)\.txt$/) },
    ]);
    // Uploaded: the new file and the conflicted copy.
    expect(summary.filesUploaded).toBe(2);
    expect(readFileSync(join(desktop!.folder, 'both.txt'), 'utf8')).toBe('laptop edit\n');
    expect(existsSync(join(desktop!.folder, 'gone-there.txt'))).toBe(false);
  });
});

describe('filesync conflicts', () => {
  test('lists the conflicted copy two devices made, with the file it was kept beside', async () => {
    const [laptop, desktop] = await devices('conflicts', ['laptop', 'desktop']);
    writeTree(laptop!.folder, { 'notes/plan.md': 'base\n' });
    await laptop!.client.sync(laptop!.folder);
    await desktop!.client.sync(desktop!.folder);
    writeTree(laptop!.folder, { 'notes/plan.md': 'laptop\n' });
    writeTree(desktop!.folder, { 'notes/plan.md': 'desktop\n' });
    await laptop!.client.sync(laptop!.folder);
    await desktop!.client.sync(desktop!.folder);
    await laptop!.client.sync(laptop!.folder);

    for (const device of [desktop!, laptop!]) {
      const listed = await device.cli('conflicts', '--json');
      expect(listed.code).toBe(EXIT.success);
      expect(JSON.parse(listed.stdout)).toEqual([
        expect.objectContaining({
          root: expect.any(String),
          path: expect.stringMatching(/^notes\/plan \(conflicted copy desktop .*\)\.md$/),
          original: 'notes/plan.md',
          device: 'desktop',
        }),
      ]);
    }
    const human = await laptop!.cli('conflicts');
    expect(human.stdout).toContain('copy of notes/plan.md, kept by desktop at ');
  });
});

describe('filesync logout, devices and the exit codes of a session that ended', () => {
  test('logout removes the session (the state stays); the next sync asks to sign in, exit 6', async () => {
    const [laptop, phone] = await devices('logout', ['laptop', 'phone']);
    writeTree(phone!.folder, { 'a.txt': 'a\n' });
    expect((await phone!.cli('sync', phone!.folder)).code).toBe(EXIT.success);
    const out = await phone!.cli('logout');
    expect(out.code).toBe(EXIT.success);
    expect(out.stdout).toContain('Logged out');
    expect(existsSync(join(phone!.home, 'session.json'))).toBe(false);
    expect(existsSync(join(phone!.home, 'state.db'))).toBe(true);

    const after = await phone!.cli('sync', phone!.folder);
    expect(after.code).toBe(EXIT.authRequired);
    expect(after.stderr).toBe(
      'filesync: not signed in on this device: run `filesync login --email ADDRESS` (or `filesync signup`)\n',
    );
    const json = await phone!.cli('sync', phone!.folder, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'auth-required', exitCode: 6 } });
    // The server forgot the device too.
    const listed = JSON.parse((await laptop!.cli('devices', '--json')).stdout) as { name: string }[];
    expect(listed.map((device) => device.name)).toEqual(['laptop']);
  });

  test('devices lists the account’s devices with this one marked; remove signs another out', async () => {
    const [laptop, desktop] = await devices('devices', ['laptop', 'desktop']);
    const listed = await laptop!.cli('devices');
    expect(listed.code).toBe(EXIT.success);
    expect(listed.stdout).toMatch(
      /^\* laptop {3}[0-9a-f-]{36} {2}signed in \S+ \S+ {2}last seen \S+ \S+ {2}\(this device\)\n {2}desktop {2}[0-9a-f-]{36} {2}signed in /,
    );

    expect((await laptop!.cli('devices', 'remove', 'nobody')).code).toBe(EXIT.usage);
    const self = await laptop!.cli('devices', 'remove', 'laptop');
    expect(self.code).toBe(EXIT.usage);
    expect(self.stderr).toContain('filesync logout');
    const removed = await laptop!.cli('devices', 'remove', 'desktop');
    expect(removed.code).toBe(EXIT.success);
    expect(removed.stdout).toMatch(/^Removed desktop \([0-9a-f-]{36}\): it is signed out\.\n$/);

    // Its access token dies within the services' revocation polling; its refresh token at once.
    // A pass caught inside that window may end incomplete (3: the calls after the revocation
    // failed for their paths); the next one is refused as a whole.
    writeTree(desktop!.folder, { 'x.txt': 'x\n' });
    const refused = await eventually(
      () => desktop!.cli('sync', desktop!.folder),
      (result) => result.code !== EXIT.success && result.code !== EXIT.incomplete,
    );
    expect(refused.code).toBe(EXIT.authRequired);
    expect(refused.stderr).toMatch(
      /^filesync: this device was removed from your account \(by another device, with `filesync devices remove`\), so its session ended: to sync here again, sign in with `filesync login --email .*`\n$/,
    );
  });
});

describe('filesync following and unfollow', () => {
  test('lists what is followed and stops following a path', async () => {
    const [laptop] = await devices('following', ['laptop']);
    await laptop!.client.verifyEmail(
      await verificationCode(stack.emulators.ses, laptop!.client.signedInEmail!),
    );
    expect((await laptop!.cli('following')).stdout).toContain('You follow nothing');
    expect((await laptop!.cli('follow', 'docs')).code).toBe(EXIT.success);
    expect((await laptop!.cli('follow', '/')).code).toBe(EXIT.success);
    expect(JSON.parse((await laptop!.cli('following', '--json')).stdout)).toEqual(['', 'docs']);
    expect((await laptop!.cli('following')).stdout).toBe('everything\ndocs\n');
    const stopped = await laptop!.cli('unfollow', 'docs');
    expect(stopped).toEqual({ code: EXIT.success, stdout: 'No longer following docs.\n', stderr: '' });
    const never = await laptop!.cli('unfollow', 'nothere');
    expect(never.code).toBe(EXIT.success);
    expect(never.stdout).toBe(
      'You were not following nothere; nothing changed (`filesync following` lists what you follow).\n',
    );
    expect(JSON.parse((await laptop!.cli('following', '--json')).stdout)).toEqual(['']);
  });
});

describe('exit codes of a server that cannot be reached and of a pass already running', () => {
  test('a server that is down: exit 7 and one line naming the address given', async () => {
    const [laptop] = await devices('unreachable', ['laptop']);
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const down = await cli(['--server', address, '--home', laptop!.home, 'sync', laptop!.folder]);
    expect(down.code).toBe(EXIT.unreachable);
    expect(down.stderr).toBe(
      `filesync: cannot reach the filesync server at ${address} (connection refused): check the address ` +
        '(--server or FILESYNC_SERVER), that the server is running and that this device is online\n',
    );
  });

  test('another pass holding the lock: exit 8 naming its pid', async () => {
    const [laptop] = await devices('busy', ['laptop']);
    // This test process is alive: its pid in the lock file is a pass that is running.
    writeFileSync(join(laptop!.home, 'sync.lock'), `${process.pid}\n`);
    const busy = await laptop!.cli('sync', laptop!.folder);
    expect(busy.code).toBe(EXIT.busy);
    expect(busy.stderr).toContain(`another filesync sync is running for this home (pid ${process.pid})`);
    rmSync(join(laptop!.home, 'sync.lock'));
  });
});

describe('Ctrl-C during a pass', () => {
  test('exits 130 saying the work is kept; the next sync goes on and the other device gets everything', async () => {
    const [laptop, desktop] = await devices('interrupt', ['laptop', 'desktop']);
    // 40 files of 2 MiB: below the size that uploads while hashing, so the upload runs after the
    // diff, where the pass is stopped, and takes seconds on the emulator.
    writeTree(
      laptop!.folder,
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}.bin`, randomBytes(2 * 1024 * 1024)])),
    );
    const child = spawn(
      join(repoRootOf(), 'node_modules/.bin/filesync'),
      ['--server', stack.server, '--home', laptop!.home, '-vv', 'sync', laptop!.folder],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // The diff is done: the uploads start now.
      if (!signalled && /"phase":"diff"/.test(stderr)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(signalled).toBe(true);
    expect(code).toBe(EXIT.interrupted);
    expect(stderr).toContain(
      'filesync: interrupted. What was synced so far is kept; run the same command again',
    );

    const resumed = await laptop!.cli('sync', laptop!.folder, '--json');
    expect(resumed.code).toBe(EXIT.success);
    expect(json(resumed)).toMatchObject({ filesUploaded: 40, failed: [] });
    await desktop!.client.sync(desktop!.folder);
    expect(treeDigest(desktop!.folder)).toEqual(treeDigest(laptop!.folder));
  });
});

/** A port nothing listens on (nor on the three after it, where the other services would be). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
