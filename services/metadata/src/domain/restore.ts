import { failedPrecondition, notFound } from '@filesync/server-kit';
import type { Committer } from './commit';
import { singleChangeError } from './change-errors';
import type { Actor, ChangeOutcome, FileChange, FileEntry, RestoreOutcome } from './model';
import { versionKey, type MetadataStore, type TrashPage } from './ports';

/** Where a RestoreFiles call goes on: the named path at `index`, after `afterPath` below it. */
export interface RestoreResume {
  readonly index: number;
  readonly afterPath: string;
}

export interface RestoreFilesResult {
  /** Per named path: its own outcome first (when it is a file), then the files below it in path order. */
  readonly outcomes: readonly RestoreOutcome[];
  readonly cursor: number;
  /** Undefined when every deleted file below the named paths was considered. */
  readonly next: RestoreResume | undefined;
}

/** A deleted file to bring back, and the version of its tombstone (the base of the restore). */
interface Candidate {
  readonly path: string;
  readonly tombstoneVersion: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** What a path that names nothing comes with: the commands that list what there is. */
export const CHECK_PATH =
  'check the path (`filesync trash` lists deleted files, `filesync versions PATH` the versions of a file)';

/**
 * Issue 8: the trash and restores, without an upload. A restore reads the version to bring back
 * and commits its content (the block list the server already holds) through the committer on top
 * of the current version, so it is an ordinary commit: optimistic concurrency on the current
 * version, the tree rule, blocks checked in the index (condemned ones revived), one journal entry
 * and change event per transaction.
 *
 * A path that is live again (a file was made there after the deletion) is never overwritten by a
 * trash restore: it is refused on its own with reason `live`. The user then picks a version
 * explicitly (restoreVersion), which keeps the live one in the history, rather than getting a
 * conflicted copy nobody asked for.
 */
export class Restorer {
  constructor(
    private readonly store: MetadataStore,
    private readonly committer: Pick<Committer, 'commit'>,
    /** The retention period, for messages about expired versions. */
    private readonly retentionMs: number,
  ) {}

  listTrash(
    namespaceId: string,
    prefix: string,
    afterPath: string | undefined,
    limit: number,
    signal?: AbortSignal,
  ): Promise<TrashPage> {
    return this.store.listTrash(namespaceId, { prefix, afterPath, limit }, signal);
  }

  /**
   * Restores the deleted file at each path and every deleted file below it, at most `maxFiles`
   * per call (`next` says where to go on). `paths` are canonical and none is below another.
   */
  async restoreFiles(
    namespaceId: string,
    actor: Actor,
    paths: readonly string[],
    options: { maxFiles: number; resume?: RestoreResume; signal?: AbortSignal },
  ): Promise<RestoreFilesResult> {
    const { maxFiles, resume, signal } = options;
    // Outcomes in order; a slot of a candidate is filled once its commit is known.
    const slots: (RestoreOutcome | Candidate)[] = [];
    let candidates = 0;
    let next: RestoreResume | undefined;
    const start = resume?.index ?? 0;
    const named = await this.store.currentEntries(namespaceId, paths.slice(start));
    for (let index = start; index < paths.length && next === undefined; index += 1) {
      const path = paths[index]!;
      const resuming = resume !== undefined && index === resume.index;
      let found = false;
      if (!resuming) {
        const current = named.get(path);
        if (current?.deleted) {
          slots.push({ path, tombstoneVersion: current.version });
          candidates += 1;
          found = true;
        } else if (current) {
          slots.push(liveRefusal(current, 0));
          found = true;
        }
      }
      // The path itself was read above (strongly consistent); the index holds what is below it.
      let after = resuming ? resume.afterPath : path;
      for (;;) {
        if (candidates >= maxFiles) {
          next = { index, afterPath: after };
          break;
        }
        signal?.throwIfAborted();
        const page = await this.store.listTrash(
          namespaceId,
          { prefix: path, afterPath: after, limit: maxFiles - candidates },
          signal,
        );
        for (const entry of page.entries) {
          slots.push({ path: entry.path, tombstoneVersion: entry.version });
          candidates += 1;
          found = true;
          after = entry.path;
        }
        if (!page.hasMore || page.entries.length === 0) break;
      }
      if (!found && !resuming) {
        slots.push({
          kind: 'refused',
          path,
          fromVersion: 0,
          reason: 'not-in-trash',
          message: `nothing is deleted at or below ${path}`,
        });
      }
    }

    const pending = slots.filter((slot): slot is Candidate => !('kind' in slot));
    const restored = await this.restoreCandidates(namespaceId, actor, pending, signal);
    return {
      outcomes: slots.map((slot) => ('kind' in slot ? slot : restored.outcomes.get(slot.path)!)),
      cursor: restored.cursor,
      next,
    };
  }

  /** Reads each candidate's last live version and commits it on top of the tombstone. */
  private async restoreCandidates(
    namespaceId: string,
    actor: Actor,
    candidates: readonly Candidate[],
    signal: AbortSignal | undefined,
  ): Promise<{ outcomes: Map<string, RestoreOutcome>; cursor: number }> {
    const outcomes = new Map<string, RestoreOutcome>();
    if (candidates.length === 0) {
      return { outcomes, cursor: await this.store.readHead(namespaceId) };
    }
    // A tombstone only ever follows a live version (deleting a deleted file is refused), so the
    // version before it is the content the file had when it was deleted.
    const previous = await this.store.getVersions(
      namespaceId,
      candidates.map(({ path, tombstoneVersion }) => ({ path, version: tombstoneVersion - 1 })),
    );
    const changes: FileChange[] = [];
    const fromVersions = new Map<string, number>();
    for (const { path, tombstoneVersion } of candidates) {
      const fromVersion = tombstoneVersion - 1;
      fromVersions.set(path, fromVersion);
      const old = previous.get(versionKey(path, fromVersion));
      if (!old || old.deleted || !old.content) {
        outcomes.set(path, {
          kind: 'refused',
          path,
          fromVersion,
          reason: 'expired',
          message: `${path} was deleted longer ago than the retention period (${this.retention()}): it can no longer be restored`,
        });
        continue;
      }
      changes.push(restoreChange(old, tombstoneVersion));
    }
    // Nothing was written yet: a caller that gave up gets nothing half done.
    signal?.throwIfAborted();
    if (changes.length === 0) return { outcomes, cursor: await this.store.readHead(namespaceId) };
    const committed = await this.committer.commit(namespaceId, actor, changes);
    for (const outcome of committed.outcomes) {
      outcomes.set(outcome.path, restoreOutcome(outcome, fromVersions.get(outcome.path)!));
    }
    return { outcomes, cursor: committed.cursor };
  }

  /**
   * Commits version `version` of `path` (live or deleted now) as a new version on top of the
   * current one. `baseVersion` > 0 must be the current version.
   */
  async restoreVersion(
    namespaceId: string,
    actor: Actor,
    path: string,
    version: number,
    baseVersion: number,
  ): Promise<{ entry: FileEntry; cursor: number }> {
    const current = (await this.store.currentEntries(namespaceId, [path])).get(path);
    if (!current) throw notFound(`${path} does not exist in this namespace: ${CHECK_PATH}`);
    const currentVersion = { 'current-version': String(current.version) };
    if (baseVersion > 0 && baseVersion !== current.version) {
      throw failedPrecondition(
        `${path} changed since version ${baseVersion}: the current version is ${current.version}`,
        currentVersion,
      );
    }
    if (version > current.version) {
      throw notFound(
        `${path} has no version ${version}: the current version is ${current.version} (\`filesync versions ${path}\` lists them)`,
      );
    }
    if (version === current.version) {
      throw failedPrecondition(
        current.deleted
          ? `version ${version} of ${path} is its deletion: restore version ${version - 1} (or the file, from the trash)`
          : `version ${version} is the current version of ${path}: nothing to restore`,
        currentVersion,
      );
    }
    const old = (await this.store.getVersions(namespaceId, [{ path, version }])).get(
      versionKey(path, version),
    );
    if (!old) {
      throw failedPrecondition(
        `version ${version} of ${path} has expired: older versions are kept for ${this.retention()} ` +
          `(\`filesync versions ${path}\` lists the ones still kept)`,
        { restore: 'expired' },
      );
    }
    if (old.deleted || !old.content) {
      throw failedPrecondition(
        `version ${version} of ${path} is a deletion: restore the version before it`,
        currentVersion,
      );
    }
    const change = restoreChange(old, current.version);
    const { outcomes, cursor } = await this.committer.commit(namespaceId, actor, [change]);
    const outcome = outcomes[0]!;
    if (outcome.kind === 'committed') return { entry: outcome.entry, cursor };
    if (outcome.kind === 'missing-blocks') {
      throw failedPrecondition(
        `the content of version ${version} of ${path} is no longer stored: it has expired ` +
          `(\`filesync versions ${path}\` lists the ones still kept)`,
        { restore: 'expired' },
      );
    }
    throw singleChangeError(change, outcome);
  }

  private retention(): string {
    const days = this.retentionMs / DAY_MS;
    if (!Number.isInteger(days)) return `${Math.round(this.retentionMs / 1000)} seconds`;
    return days === 1 ? '1 day' : `${days} days`;
  }
}

/** What became of one restored file's commit. */
function restoreOutcome(outcome: ChangeOutcome, fromVersion: number): RestoreOutcome {
  const { path } = outcome;
  switch (outcome.kind) {
    case 'committed':
      return { kind: 'restored', path, fromVersion, entry: outcome.entry };
    case 'missing-blocks':
      return {
        kind: 'refused',
        path,
        fromVersion,
        reason: 'expired',
        message: `the content of version ${fromVersion} of ${path} is no longer stored: it has expired`,
      };
    case 'conflict': {
      // Made live again since the trash was read: never overwritten.
      const now = outcome.current;
      if (now && !now.deleted) return liveRefusal(now, fromVersion);
      return {
        kind: 'refused',
        path,
        fromVersion,
        reason: 'conflict',
        message: `${path} changed while it was being restored (now version ${now?.version ?? 0}): list the trash and try again`,
      };
    }
    case 'rejected':
      return {
        kind: 'refused',
        path,
        fromVersion,
        reason: outcome.reason === 'path-clash' ? 'path-clash' : 'conflict',
        message: outcome.message,
      };
  }
}

/** The change that brings `old`'s content back on top of version `baseVersion`. */
function restoreChange(old: FileEntry, baseVersion: number): FileChange {
  return { path: old.path, baseVersion, content: old.content, modifiedAtMs: old.modifiedAtMs };
}

function liveRefusal(current: FileEntry, fromVersion: number): RestoreOutcome {
  return {
    kind: 'refused',
    path: current.path,
    fromVersion,
    reason: 'live',
    message:
      `${current.path} is a live file (version ${current.version}): it was not overwritten; ` +
      'restore an older version on top of it with --version N (see `filesync versions`)',
  };
}
