import { LIMITS } from '@filesync/resources';
import { invalidArgument } from '@filesync/server-kit';
import { comparePaths, decide, type LocalEntry } from '@filesync/sync-core';
import {
  diffManifest,
  type DiffOutput,
  type HeldEntriesProbe,
  type ManifestSource,
  type ServerFile,
} from './diff';
import { currentEntries } from './incremental';
import type { CallBudget, ServerFiles } from './ports';

/** What a resumed full diff is asked for. */
export interface ResumeAfter {
  readonly namespaceId: string;
  /** The `through_path` of an earlier diff's progress: everything up to it was decided then. */
  readonly resumeAfter: string;
  readonly budget: CallBudget;
  /** The folder's remote root ('' = namespace root). */
  readonly remoteRoot?: string;
}

/**
 * A full diff resumed after `resumeAfter` (see syncdiff.proto, Diff): the client kept the answers
 * up to that path from an earlier diff that broke off. The manifest first names the paths at or
 * before it that the client wants decided again (changed since, at most
 * LIMITS.maxIncrementalPaths): each is decided against its current entry, as an incremental diff
 * decides a named path. Then the rest of the manifest is merged with the listing after
 * `resumeAfter`, as a full diff merges them, progress reports included. The summary counts both
 * parts; its cursor is the listing's (the client keeps the lowest of its parts').
 *
 * Costs one current-entries call per LIMITS.maxPathsPerGetFiles named paths and the listing of
 * the paths after `resumeAfter` only.
 */
export async function* resumeFullDiff<S extends ServerFile>(
  manifest: ManifestSource,
  files: ServerFiles<S>,
  { namespaceId, resumeAfter, budget, remoteRoot = '' }: ResumeAfter,
  probe?: HeldEntriesProbe,
): AsyncGenerator<DiffOutput<S>> {
  const named: LocalEntry[] = [];
  let first = await manifest.next();
  while (first && comparePaths(first.path, resumeAfter) <= 0) {
    if (named.length >= LIMITS.maxIncrementalPaths) {
      throw invalidArgument(
        `a resumed diff decides again at most ${LIMITS.maxIncrementalPaths} paths at or before ` +
          'resume_after: send a whole full diff instead',
      );
    }
    named.push(first);
    first = await manifest.next();
  }
  let actionsSent = 0;
  if (named.length > 0) {
    const found = await currentEntries(
      files,
      namespaceId,
      named.map((entry) => entry.path),
      budget,
    );
    for (const local of named) {
      const decision = decide(local, found.get(local.path));
      if (!decision) continue;
      actionsSent += 1;
      yield { type: 'action', path: local.path, decision };
    }
  }
  // The entry read past the named ones is the rest's first.
  let pending = first;
  const rest: ManifestSource = {
    next: async () => {
      if (pending === undefined) return manifest.next();
      const entry = pending;
      pending = undefined;
      return entry;
    },
    get received() {
      return manifest.received;
    },
  };
  const listing = files.list(namespaceId, budget, remoteRoot, resumeAfter);
  for await (const output of diffManifest(rest, listing, probe)) {
    yield output.type === 'summary' ? { ...output, actionsSent: output.actionsSent + actionsSent } : output;
  }
}
