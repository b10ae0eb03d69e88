import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pino from 'pino';
import { FilesyncClient } from '@filesync/sync-client';
import { TEST_PASSWORD } from '@filesync/test-support';
import { CuttableProxy } from './support/cuttable-proxy';
import { closeDevices, twoFolderDevices, type FolderDevice } from './support/devices';
import { readTestStack, TEST_PORTS } from './support/harness';
import { tempDir, treeDigest, writeTree } from './support/trees';

// Real services and emulators. A second device's first full diff is cut off midway (the network
// between it and the services goes down once it has kept some progress); its next pass resumes
// the diff after the last progress it kept instead of listing the namespace again, and the folder
// ends up exactly as the other device's.

const stack = readTestStack();
/** Files of the namespace: several progress reports (every 500 merged paths) of a full diff. */
const FILES = 1500;

/** The diff checkpoint the client keeps in its state database, read as another process would. */
function checkpointOf(home: string): string | undefined {
  try {
    const db = new DatabaseSync(join(home, 'state.db'), { readOnly: true });
    try {
      const row = db.prepare('SELECT through_path FROM diff_checkpoints').get() as
        { through_path: string } | undefined;
      return row?.through_path;
    } finally {
      db.close();
    }
  } catch {
    // Not made yet, or busy for a moment.
    return undefined;
  }
}

describe('a full diff cut off midway resumes on the next pass', () => {
  const dirs: string[] = [];
  // Ports of this tier's offset that the stack leaves free (it takes basePort to basePort + 3).
  const proxy = new CuttableProxy(TEST_PORTS.basePort + 24, TEST_PORTS.basePort, 4);
  let laptop: FolderDevice;
  let desktop: FolderDevice;
  const logged: { msg?: string; after?: string; kept?: number; received?: number }[] = [];

  beforeAll(async () => {
    await proxy.open();
    const dir = (label: string) => {
      const made = tempDir(label);
      dirs.push(made);
      return made;
    };
    let email: string;
    let unused: FolderDevice;
    ({ laptop, desktop: unused, email } = await twoFolderDevices(stack.server, dir, 'resume'));
    await unused.client.close();
    const home = dir('resume-desktop-home');
    const folder = dir('resume-desktop');
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    // The desktop reaches the services only through the proxy.
    const client = await FilesyncClient.open({ home, server: proxy.server, logger });
    await client.login(email, TEST_PASSWORD, 'desktop-2');
    desktop = { client, home, folder, sync: () => client.sync(folder) };
  });

  afterAll(async () => {
    await proxy.cut();
    await closeDevices(...[laptop, desktop].filter(Boolean));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('the second pass lists only what follows the checkpoint and loses nothing', async () => {
    // Empty files but a few: the namespace is large, its bytes are not (this tests the listing).
    const tree: Record<string, string> = {};
    for (let index = 0; index < FILES; index++) {
      tree[`d${Math.floor(index / 100)}/f${String(index).padStart(5, '0')}.txt`] =
        index % 500 === 0 ? `f${index}` : '';
    }
    writeTree(laptop.folder, tree);
    await laptop.sync();

    const pass = desktop.sync();
    let cutAt: string | undefined;
    const watching = (async () => {
      for (let settled = false; !settled;) {
        cutAt = checkpointOf(desktop.home);
        if (cutAt !== undefined) {
          await proxy.cut();
          return;
        }
        settled = await Promise.race([
          pass.then(
            () => true,
            () => true,
          ),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5)),
        ]);
      }
    })();
    await expect(pass).rejects.toThrow();
    await watching;
    expect(cutAt).toBeDefined();

    await proxy.open();
    // The client's channels come back after their reconnect backoff: until then a pass fails
    // before its diff starts, as any pass does while the server is unreachable.
    for (let attempt = 1; ; attempt++) {
      try {
        await desktop.sync();
        break;
      } catch (error) {
        if (attempt >= 20 || !/UNAVAILABLE/.test(String(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    const resumed = logged.find((line) => line.msg === 'full diff resumed');
    expect(resumed).toMatchObject({ after: cutAt });
    // Cut at its first checkpoint: after 500 of 1,500 paths (on this machine it always was; a much
    // faster one might finish the diff first and cut the downloads instead: resumed all the same).
    expect(resumed!.kept).toBeGreaterThan(0);
    expect(checkpointOf(desktop.home)).toBeUndefined();
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
  }, 120_000);
});
