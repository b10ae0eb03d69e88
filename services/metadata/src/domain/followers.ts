import { isAtOrBelow } from '@filesync/sync-core';
import type { ChangeEvent, Follow } from './model';

type Recipient = ChangeEvent['recipients'][number];

/**
 * Who hears about a commit: every user with a follow of a changed path, of one of its ancestor
 * folders, or of the whole namespace (""). The actor is not excluded: following a folder and
 * editing it from another device is a reason to be told. Each recipient gets the changed paths
 * its follows cover, in commit order. A follow whose address was not confirmed is never mailed.
 */
export function resolveRecipients(follows: readonly Follow[], changedPaths: readonly string[]): Recipient[] {
  const byUser = new Map<string, { email: string; folders: string[] }>();
  for (const follow of follows) {
    if (follow.emailVerified !== true) continue;
    const user = byUser.get(follow.userId) ?? { email: follow.email, folders: [] };
    user.folders.push(follow.path);
    byUser.set(follow.userId, user);
  }
  const recipients: Recipient[] = [];
  for (const [userId, { email, folders }] of byUser) {
    const paths = changedPaths.filter((path) => folders.some((folder) => isAtOrBelow(path, folder)));
    if (paths.length > 0) recipients.push({ userId, email, emailVerified: true, paths });
  }
  return recipients.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}
