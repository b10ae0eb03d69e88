import { failedPrecondition, invalidArgument, notFound } from '@filesync/server-kit';
import type { ChangeOutcome, FileChange } from './model';

/** The error CommitFile and DeleteFile answer when their one change was not committed. */
export function singleChangeError(
  change: FileChange,
  outcome: Exclude<ChangeOutcome, { kind: 'committed' }>,
) {
  if (outcome.kind === 'missing-blocks') {
    return failedPrecondition(
      `${outcome.blockHashes.length} block(s) of ${change.path} are not in storage: upload them, then commit again`,
      { 'missing-blocks': outcome.blockHashes.join(',') },
    );
  }
  if (outcome.kind === 'rejected') {
    switch (outcome.reason) {
      case 'invalid-path':
      case 'invalid-change':
        return invalidArgument(outcome.message);
      case 'path-clash':
        // Trailer values must be printable ASCII: the path is percent-encoded UTF-8.
        return failedPrecondition(outcome.message, {
          'clashing-path': encodeURIComponent(outcome.clashingPath ?? ''),
        });
      case 'mass-delete':
        return failedPrecondition(outcome.message, { 'mass-delete': 'confirm_mass_delete' });
    }
  }
  const current = outcome.current;
  const isDelete = change.content === undefined;
  if (isDelete && !current) return notFound(`${change.path} does not exist: nothing to delete`);
  const currentVersion = current?.version ?? 0;
  const details = { 'current-version': String(currentVersion) };
  if (isDelete && current?.deleted && current.version === change.baseVersion) {
    return failedPrecondition(`${change.path} is already deleted (version ${currentVersion})`, details);
  }
  return failedPrecondition(
    `${change.path} changed since version ${change.baseVersion}: the current version is ${currentVersion}; ` +
      'fetch it and commit again based on it',
    details,
  );
}
