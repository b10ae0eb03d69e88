import { FilesyncClient, type SyncSummary } from '@filesync/sync-client';
import { TEST_PASSWORD, uniqueEmail } from '@filesync/test-support';

/** A device of the client library: its own FILESYNC_HOME and one synced folder. */
export interface FolderDevice {
  readonly client: FilesyncClient;
  readonly home: string;
  readonly folder: string;
  sync(): Promise<SyncSummary>;
}

/**
 * One account with two devices, `laptop` (signed up) and `desktop` (logged in), their homes and
 * folders made by `dir`. `names` go into the folders' names: names of one length give folders
 * whose absolute paths have the same length.
 */
export async function twoFolderDevices(
  server: string,
  dir: (label: string) => string,
  label: string,
  names: readonly [string, string] = ['laptop', 'desktop'],
): Promise<{ email: string; laptop: FolderDevice; desktop: FolderDevice }> {
  const email = uniqueEmail(label);
  const device = async (name: string): Promise<FolderDevice> => {
    const home = dir(`${label}-${name}-home`);
    const folder = dir(`${label}-${name}`);
    const client = await FilesyncClient.open({ home, server });
    return { client, home, folder, sync: () => client.sync(folder) };
  };
  const laptop = await device(names[0]);
  const desktop = await device(names[1]);
  await laptop.client.signup(email, TEST_PASSWORD, 'laptop');
  await desktop.client.login(email, TEST_PASSWORD, 'desktop');
  return { email, laptop, desktop };
}

export async function closeDevices(...devices: FolderDevice[]): Promise<void> {
  for (const device of devices) await device.client.close();
}
