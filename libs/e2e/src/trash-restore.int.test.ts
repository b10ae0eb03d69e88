import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { auth } from '@filesync/contracts';
import { LOCAL_CREDENTIALS } from '@filesync/local-stack';
import { LIMITS } from '@filesync/resources';
import {
  EXIT,
  FilesyncClient,
  type RestoreReport,
  type TrashItem,
  type VersionInfo,
} from '@filesync/sync-client';
import {
  as,
  connectStubs,
  expectedTable,
  signUp,
  statusTable,
  type Stubs,
  TEST_PASSWORD,
  unary,
  uniqueEmail,
} from '@filesync/test-support';
import { cli, scratchFolders, type CliResult } from './support/cli';
import { readTestStack } from './support/harness';
import { treeDigest, writeTree } from './support/trees';

// Issue 8, section 5: the trash, restores and older versions on the real local stack (services
// and emulators, no fakes), through the `filesync` CLI and the generated stubs. Nothing is
// uploaded by a restore: the server commits versions whose blocks it holds, and devices download
// them on their next pass. "Past retention" is made by moving a version's expiry into the past in
// DynamoDB Local (the test stack keeps the default 30 days; DynamoDB's TTL would delete the item
// later, readers treat it as gone from its expiry on).

const stack = readTestStack();
const scratch = scratchFolders();
const dir = scratch.dir;
const clients: FilesyncClient[] = [];
let table: DynamoDBDocumentClient;

beforeAll(() => {
  table = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: stack.resources.region,
      endpoint: stack.emulators.dynamodb,
      credentials: LOCAL_CREDENTIALS,
    }),
  );
});

afterAll(async () => {
  for (const client of clients) await client.close();
  table?.destroy();
  scratch.removeAll();
});

interface Device {
  readonly client: FilesyncClient;
  readonly folder: string;
  cli(...args: string[]): Promise<CliResult>;
  sync(options?: { force?: boolean }): Promise<unknown>;
}

async function twoDevices(label: string): Promise<{ laptop: Device; desktop: Device }> {
  const email = uniqueEmail(label);
  const device = async (name: string): Promise<Device> => {
    const home = dir(`${label}-${name}-home`);
    const folder = dir(`${label}-${name}`);
    const client = await FilesyncClient.open({ home, server: stack.server });
    clients.push(client);
    return {
      client,
      folder,
      cli: (...args) => cli(['--server', stack.server, '--home', home, ...args]),
      sync: (options) => client.sync(folder, options),
    };
  };
  const laptop = await device('laptop');
  const desktop = await device('desktop');
  await laptop.client.signup(email, TEST_PASSWORD, 'laptop');
  await desktop.client.login(email, TEST_PASSWORD, 'desktop');
  return { laptop, desktop };
}

const json = <T>(result: CliResult): T => JSON.parse(result.stdout) as T;

/** Moves the expiry of `path`'s superseded versions (and of its trash entry) into the past. */
async function expire(namespaceId: string, path: string): Promise<void> {
  const pastSeconds = Math.floor(Date.now() / 1000) - 1;
  const { Items: items = [] } = await table.send(
    new QueryCommand({
      TableName: stack.resources.tables.metadata,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: '#path = :path',
      ExpressionAttributeNames: { '#path': 'path' },
      ExpressionAttributeValues: { ':pk': `NS#${namespaceId}`, ':path': path },
    }),
  );
  for (const item of items) {
    const sk = String(item.sk);
    if (!sk.startsWith('VER#') && !(sk.startsWith('FILE#') && item.trashExpiresAtMs !== undefined)) continue;
    await table.send(
      new UpdateCommand({
        TableName: stack.resources.tables.metadata,
        Key: { pk: item.pk, sk: item.sk },
        UpdateExpression: sk.startsWith('VER#') ? 'SET expiresAt = :at' : 'SET trashExpiresAtMs = :ms',
        ExpressionAttributeValues: sk.startsWith('VER#')
          ? { ':at': pastSeconds }
          : { ':ms': pastSeconds * 1000 },
      }),
    );
  }
}

describe('trash and restore from the command line', () => {
  test('a deleted folder of 50 files: trash lists them with the device name, one restore brings all back to both devices', async () => {
    const { laptop, desktop } = await twoDevices('trash-folder');
    const album = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [
        `album/photo-${String(i).padStart(2, '0')}.jpg`,
        randomBytes(700 + i),
      ]),
    );
    writeTree(laptop.folder, { ...album, 'notes.txt': 'keep me\n' });
    const original = treeDigest(laptop.folder);
    await laptop.sync();
    await desktop.sync();
    expect(treeDigest(desktop.folder)).toEqual(original);

    rmSync(join(laptop.folder, 'album'), { recursive: true });
    const deletedAt = Date.now();
    await laptop.sync({ force: true });
    await desktop.sync({ force: true });
    expect(Object.keys(treeDigest(desktop.folder))).toEqual(['notes.txt']);

    // The trash, named by the deleted folder's local path: 50 files, deleted by "laptop".
    const listed = await laptop.cli('trash', join(laptop.folder, 'album'), '--json');
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(EXIT.success);
    const trash = json<TrashItem[]>(listed);
    expect(trash.map((item) => item.path)).toEqual(Object.keys(album).sort());
    for (const item of trash) {
      expect(item.deviceName).toBe('laptop');
      expect(item.deletedAtMs).toBeGreaterThanOrEqual(deletedAt - 1_000);
      expect(item.expiresAtMs).toBe(item.deletedAtMs + 30 * 24 * 60 * 60 * 1000);
    }
    const human = await desktop.cli('trash');
    expect(human.stdout).toContain('album/photo-00.jpg  700 bytes  deleted ');
    expect(human.stdout).toContain(' by laptop  restorable until ');
    expect(human.stdout).toContain('50 deleted files');

    // One command restores the folder; nothing is uploaded, the devices download on their next pass.
    const restored = await desktop.cli('restore', 'album', '--json');
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(EXIT.success);
    const report = json<RestoreReport>(restored);
    expect(report.refused).toEqual([]);
    expect(report.restored).toHaveLength(50);
    expect(report.restored[0]).toEqual({ path: 'album/photo-00.jpg', fromVersion: 1, version: 3 });
    expect(json<TrashItem[]>(await laptop.cli('trash', '--json'))).toEqual([]);

    const laptopPass = await laptop.cli('sync', laptop.folder, '--json');
    expect(laptopPass.code).toBe(EXIT.success);
    expect(json<{ filesDownloaded: number; uploadedBytes: number }>(laptopPass)).toMatchObject({
      filesDownloaded: 50,
      uploadedBytes: 0,
    });
    await desktop.sync();
    expect(treeDigest(laptop.folder)).toEqual(original);
    expect(treeDigest(desktop.folder)).toEqual(original);
  });

  test('an older version comes back as a new version; one past retention is refused cleanly', async () => {
    const { laptop, desktop } = await twoDevices('trash-versions');
    const file = join(laptop.folder, 'plan.md');
    writeFileSync(file, 'first\n');
    await laptop.sync();
    writeFileSync(file, 'second, longer\n');
    await laptop.sync();
    await desktop.sync();

    const versions = json<VersionInfo[]>(await laptop.cli('versions', file, '--json'));
    expect(versions.map((version) => [version.version, version.deviceName])).toEqual([
      [2, 'laptop'],
      [1, 'laptop'],
    ]);
    expect(versions[0]!.expiresAtMs).toBe(0);
    expect(versions[1]!.expiresAtMs).toBeGreaterThan(Date.now() + 29 * 24 * 60 * 60 * 1000);
    const human = await laptop.cli('versions', file);
    expect(human.stdout).toMatch(/^v2 .* by laptop {2}current\nv1 .* 6 bytes {2}by laptop {2}kept until /);

    const restored = await desktop.cli('restore', 'plan.md', '--version', '1', '--json');
    expect(restored.code).toBe(EXIT.success);
    expect(json<RestoreReport>(restored).restored).toEqual([{ path: 'plan.md', fromVersion: 1, version: 3 }]);
    await laptop.sync();
    await desktop.sync();
    expect(readFileSync(file, 'utf8')).toBe('first\n');
    expect(readFileSync(join(desktop.folder, 'plan.md'), 'utf8')).toBe('first\n');

    // Version 2 is superseded now; past its retention it is refused with a clear error, never INTERNAL.
    const namespaceId = (await laptop.client.status()).namespaceId;
    await expire(namespaceId, 'plan.md');
    const expired = await laptop.cli('restore', 'plan.md', '--version', '2', '--json');
    expect(expired.code).toBe(EXIT.error);
    expect(expired.stderr).toContain('filesync: version 2 of plan.md has expired');
    expect(expired.stderr).not.toContain('FAILED_PRECONDITION');
    expect(json<{ error: { message: string } }>(expired).error.message).toContain('kept for 30 days');
    const versionsNow = json<VersionInfo[]>(await laptop.cli('versions', 'plan.md', '--json'));
    expect(versionsNow.map((version) => version.version)).toEqual([3]);
    expect(readFileSync(file, 'utf8')).toBe('first\n');
  });

  test('a deleted file whose path is live again is not overwritten; one past retention is refused', async () => {
    const { laptop } = await twoDevices('trash-live');
    writeTree(laptop.folder, { 'a.txt': 'old a\n', 'b.txt': 'old b\n', 'c.txt': 'keep\n' });
    await laptop.sync();
    rmSync(join(laptop.folder, 'a.txt'));
    rmSync(join(laptop.folder, 'b.txt'));
    await laptop.sync({ force: true });
    writeFileSync(join(laptop.folder, 'a.txt'), 'a new a\n');
    await laptop.sync();

    const live = await laptop.cli('restore', 'a.txt', '--json');
    expect(live.code).toBe(EXIT.incomplete);
    expect(json<RestoreReport>(live)).toMatchObject({
      restored: [],
      refused: [{ path: 'a.txt', reason: 'live', message: expect.stringContaining('was not overwritten') }],
    });
    const human = await laptop.cli('restore', 'a.txt');
    expect(human.stdout).toContain('Not restored: 1');
    await laptop.sync();
    expect(readFileSync(join(laptop.folder, 'a.txt'), 'utf8')).toBe('a new a\n');

    await expire((await laptop.client.status()).namespaceId, 'b.txt');
    expect(json<TrashItem[]>(await laptop.cli('trash', '--json'))).toEqual([]);
    const expired = await laptop.cli('restore', 'b.txt', '--json');
    expect(expired.code).toBe(EXIT.incomplete);
    expect(json<RestoreReport>(expired).refused).toMatchObject([{ path: 'b.txt', reason: 'expired' }]);
  });
});

describe('bad input to the trash RPCs is rejected with the documented status', () => {
  let stubs: Stubs;
  let alice: auth.Session;
  let bob: auth.Session;

  beforeAll(async () => {
    stubs = connectStubs(stack);
    alice = await signUp(stubs, 'trash-alice');
    bob = await signUp(stubs, 'trash-bob');
  });
  afterAll(() => stubs?.close());

  const listTrash = (session: auth.Session, request: Record<string, unknown>) => () =>
    unary(
      stubs.metadata.listTrash.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, pathPrefix: '', limit: 0, pageToken: '', ...request },
      as(session),
    );
  const restoreFiles = (session: auth.Session, request: Record<string, unknown>) => () =>
    unary(
      stubs.metadata.restoreFiles.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, paths: ['a.txt'], pageToken: '', ...request },
      as(session),
    );
  const restoreVersion = (session: auth.Session, request: Record<string, unknown>) => () =>
    unary(
      stubs.metadata.restoreVersion.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, path: 'a.txt', version: 1, baseVersion: 0, ...request },
      as(session),
    );

  test("another user's namespace is PERMISSION_DENIED", async () => {
    const calls = [
      ['ListTrash', listTrash(alice, { namespaceId: bob.rootNamespaceId })],
      ['RestoreFiles', restoreFiles(alice, { namespaceId: bob.rootNamespaceId })],
      ['RestoreVersion', restoreVersion(alice, { namespaceId: bob.rootNamespaceId })],
    ] as const;
    expect(await statusTable(calls)).toEqual(expectedTable(calls, 'PERMISSION_DENIED'));
  });

  test('bad paths, versions, limits, tokens and too many paths are INVALID_ARGUMENT', async () => {
    const calls = [
      ['ListTrash ..', listTrash(alice, { pathPrefix: 'a/../b' })],
      ['ListTrash absolute', listTrash(alice, { pathPrefix: '/etc' })],
      ['ListTrash limit', listTrash(alice, { limit: -5 })],
      ['ListTrash token', listTrash(alice, { pageToken: 'garbage!' })],
      ['RestoreFiles NUL', restoreFiles(alice, { paths: ['a\u0000b'] })],
      ['RestoreFiles none', restoreFiles(alice, { paths: [] })],
      [
        'RestoreFiles too many',
        restoreFiles(alice, {
          paths: Array.from({ length: LIMITS.maxPathsPerRestore + 1 }, (_, i) => `f${i}`),
        }),
      ],
      ['RestoreFiles overlapping', restoreFiles(alice, { paths: ['docs', 'docs/a'] })],
      ['RestoreVersion negative', restoreVersion(alice, { version: -1 })],
      ['RestoreVersion zero', restoreVersion(alice, { version: 0 })],
      ['RestoreVersion bad base', restoreVersion(alice, { baseVersion: -3 })],
      ['RestoreVersion ..', restoreVersion(alice, { path: '../a.txt' })],
    ] as const;
    expect(await statusTable(calls)).toEqual(expectedTable(calls, 'INVALID_ARGUMENT'));
  });

  test('a path never committed: RestoreVersion NOT_FOUND, RestoreFiles a per-path refusal', async () => {
    expect(await statusTable([['RestoreVersion', restoreVersion(alice, {})]])).toEqual({
      RestoreVersion: 'NOT_FOUND',
    });
    const response = await restoreFiles(alice, {})();
    expect(response.results).toMatchObject([{ path: 'a.txt', outcome: { $case: 'refused' } }]);
  });
});
