import type { Command } from 'commander';
import type { ConflictCopy, DeviceInfo, FilesyncClient } from '../client';
import { plural } from '../plural';

/** What the commands here need of main.ts. */
export interface CommandContext {
  /** Opens the client for one command (gRPC and node:sqlite load only then) and closes it after. */
  readonly withClient: <T>(work: (client: FilesyncClient) => Promise<T>) => Promise<T>;
  /** The command's exit code when it does not throw. */
  readonly outcome: { exitCode: number };
  /** A path as the user typed it, made namespace-relative (see main.ts). */
  readonly namespacePath: (client: FilesyncClient, input: string) => Promise<string>;
}

/** `logout`, `devices`, `conflicts`, `following` and `unfollow`. */
export function registerAccountCommands(
  program: Command,
  { withClient, namespacePath }: CommandContext,
): void {
  program
    .command('logout')
    .description('sign this device out (the synced folders and their state stay)')
    .action(async () => {
      const ended = await withClient((client) => client.logout());
      process.stdout.write(
        ended.revoked
          ? `Logged out ${ended.email} on this device. Your synced folders stay as they are; \`filesync login\` signs in again.\n`
          : `Logged out ${ended.email} on this device (the server could not be told, so the device stays listed: ` +
              'remove it from another device with `filesync devices remove`).\n',
      );
    });

  const devices = program
    .command('devices')
    .description('list the devices signed in to your account (`devices remove NAME|ID` signs one out)')
    .option('--json', 'print the devices as JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await withClient((client) => client.devices());
      process.stdout.write(options.json ? `${JSON.stringify(list)}\n` : `${deviceLines(list).join('\n')}\n`);
    });
  devices
    .command('remove')
    .description('sign another device out for good (a lost or sold one): it must log in again to sync')
    .argument('<device>', 'its name or id (or the start of its id), as `filesync devices` lists it')
    .action(async (nameOrId: string) => {
      const removed = await withClient((client) => client.removeDevice(nameOrId));
      process.stdout.write(`Removed ${removed.name} (${removed.deviceId}): it is signed out.\n`);
    });

  program
    .command('conflicts')
    .description('list the conflicted copies in your synced folders, with the file each was kept beside')
    .option('--json', 'print the copies as JSON')
    .action(async (options: { json?: boolean }) => {
      const copies = await withClient((client) => client.conflicts());
      process.stdout.write(
        options.json ? `${JSON.stringify(copies)}\n` : `${conflictLines(copies).join('\n')}\n`,
      );
    });

  program
    .command('following')
    .description('list the files and folders whose changes are mailed to you')
    .option('--json', 'print the paths as JSON')
    .action(async (options: { json?: boolean }) => {
      const paths = await withClient((client) => client.following());
      const lines =
        paths.length === 0
          ? ['You follow nothing: `filesync follow PATH` mails you its changes.']
          : paths.map((path) => (path === '' ? 'everything' : path));
      process.stdout.write(options.json ? `${JSON.stringify(paths)}\n` : `${lines.join('\n')}\n`);
    });

  program
    .command('unfollow')
    .description('stop mail about a file or folder you follow')
    .argument('<path>', "as `filesync following` lists it, or a local path; '/' is everything")
    .action(async (path: string) => {
      await withClient(async (client) => {
        const target = await namespacePath(client, path);
        const { wasFollowing } = await client.unfollow(target);
        process.stdout.write(`${unfollowLine(target, wasFollowing)}\n`);
      });
    });
}

/** What `filesync unfollow` did: "No longer following" only for a path that was followed. */
export function unfollowLine(path: string, wasFollowing: boolean): string {
  const name = path === '' ? 'everything' : path;
  return wasFollowing
    ? `No longer following ${name}.`
    : `You were not following ${name}; nothing changed (\`filesync following\` lists what you follow).`;
}

/** `filesync devices`: one line each, this one marked, in columns. */
export function deviceLines(devices: readonly DeviceInfo[]): string[] {
  const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  const rows = devices.map((device) => [
    `${device.current ? '*' : ' '} ${device.name}`,
    device.deviceId,
    `signed in ${minute(device.createdAtMs)}`,
    device.lastSeenAtMs > 0 ? `last seen ${minute(device.lastSeenAtMs)}` : '',
    device.current ? '(this device)' : '',
  ]);
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]!.length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}

/** `filesync conflicts`: per synced folder, each copy and the file it was kept beside. */
export function conflictLines(copies: readonly ConflictCopy[]): string[] {
  if (copies.length === 0) return ['No conflicted copies in your synced folders.'];
  const lines: string[] = [];
  let root: string | undefined;
  for (const copy of copies) {
    if (copy.root !== root) {
      root = copy.root;
      lines.push(`${root}:`);
    }
    const by = copy.device ? ` by ${copy.device}` : '';
    lines.push(`  ${copy.path}`, `    copy of ${copy.original}, kept${by} at ${copy.madeAt}`);
  }
  lines.push(
    `${plural(copies.length, 'conflicted copy', 'conflicted copies')}: keep what you need in the original and delete the copy; both sync.`,
  );
  return lines;
}
