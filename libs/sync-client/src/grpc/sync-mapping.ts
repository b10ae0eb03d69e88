import { ACTION_OF, common, metadata, syncdiff } from '@filesync/contracts';
import type {
  ActionKind,
  ChangeOutcome,
  DiffAction,
  FileChange,
  ManifestEntry,
  RejectionReason,
  ServerEntry,
  UnrecognizedAction,
} from '../sync/model';

/**
 * The proto messages of sync-diff and metadata and the client's model (sync/model.ts), both
 * ways. What the model cannot say becomes something harmless: an action kind this client does
 * not know is an UnrecognizedAction (reported, never applied: least of all as a deletion), a
 * refusal reason it does not know, or a commit result without an outcome, is the refusal 'other'
 * (the path fails), and so is a path clash that names no clashing path.
 */

/** The model's kind of each wire kind; every model kind has one (ACTION_OF is the one map). */
const KIND_OF: ReadonlyMap<syncdiff.ActionKind, ActionKind> = new Map(
  Object.entries(ACTION_OF satisfies Record<ActionKind, syncdiff.ActionKind>).map(
    ([kind, wire]) => [wire, kind as ActionKind] as const,
  ),
);
/** ACTION_OF names no kind the model lacks (the cast above holds). */
const _noOtherKinds: [Exclude<keyof typeof ACTION_OF, ActionKind>] extends [never] ? true : never = true;

const REASON_OF: ReadonlyMap<metadata.RejectionReason, RejectionReason> = new Map([
  [metadata.RejectionReason.REJECTION_REASON_INVALID_PATH, 'invalid-path'],
  [metadata.RejectionReason.REJECTION_REASON_INVALID_CHANGE, 'invalid-change'],
  [metadata.RejectionReason.REJECTION_REASON_PATH_CLASH, 'path-clash'],
  [metadata.RejectionReason.REJECTION_REASON_MASS_DELETE, 'mass-delete'],
]);

/** A server entry; a missing content reads as none (contentHash '', size 0, no blocks). */
export function serverEntryOf(entry: common.FileEntry): ServerEntry {
  return {
    path: entry.path,
    version: entry.version,
    deleted: entry.deleted,
    contentHash: entry.content?.contentHash ?? '',
    size: entry.content?.size ?? 0,
    blockHashes: entry.content?.blockHashes ?? [],
    modifiedAtMs: entry.modifiedAtMs,
    journalSeq: entry.journalSeq,
    movedFrom: entry.movedFrom,
    movedTo: entry.movedTo,
  };
}

/** One Diff action: a model action, or, of a kind this client does not know, an unrecognized one. */
export function diffActionOf(
  action: syncdiff.DiffAction,
): { readonly action: DiffAction } | { readonly unrecognized: UnrecognizedAction } {
  const kind = KIND_OF.get(action.kind);
  if (kind === undefined) {
    // ACTION_KIND_UNSPECIFIED, or a number a newer server added.
    return {
      unrecognized: { path: action.path, kind: syncdiff.ActionKind[action.kind] ?? String(action.kind) },
    };
  }
  return {
    action: {
      path: action.path,
      kind,
      baseVersion: action.baseVersion,
      server: action.serverEntry && serverEntryOf(action.serverEntry),
    },
  };
}

export function manifestEntryToProto(entry: ManifestEntry): syncdiff.ManifestEntry {
  return {
    path: entry.path,
    contentHash: entry.contentHash,
    size: entry.size,
    baseVersion: entry.baseVersion,
    baseContentHash: entry.baseContentHash,
    deleted: entry.deleted,
  };
}

export function fileChangeToProto(change: FileChange): metadata.FileChange {
  const { content } = change;
  return {
    path: change.path,
    baseVersion: change.baseVersion,
    content: content && {
      contentHash: content.contentHash,
      size: content.size,
      blockHashes: [...content.blockHashes],
    },
    delete: content === undefined,
    modifiedAtMs: change.modifiedAtMs,
    moveFrom: change.moveFrom?.path ?? '',
    moveFromBaseVersion: change.moveFrom?.baseVersion ?? 0,
  };
}

/** One CommitResult; without an outcome (a newer server's), the refusal 'other'. */
export function changeOutcomeOf(result: metadata.CommitResult): ChangeOutcome {
  const { path, outcome } = result;
  switch (outcome?.$case) {
    case 'committed':
      return { kind: 'committed', path, entry: serverEntryOf(outcome.value) };
    case 'conflict':
      return { kind: 'conflict', path, current: serverEntryOf(outcome.value) };
    case 'missingBlocks':
      return { kind: 'missing-blocks', path, blockHashes: outcome.value.blockHashes };
    case 'rejected': {
      const { reason, message, clashingPath } = outcome.value;
      const known = REASON_OF.get(reason);
      // A clash names the path it clashes with; one that does not is no clash to settle (the
      // engine would take '' for the namespace root and move a whole folder aside).
      const settleable = known !== 'path-clash' || clashingPath !== '';
      return {
        kind: 'rejected',
        path,
        reason: known !== undefined && settleable ? known : 'other',
        // The server's own words; failing those, the wire name of its reason.
        message: message || (metadata.RejectionReason[reason] ?? ''),
        clashingPath,
      };
    }
    default:
      return {
        kind: 'rejected',
        path,
        reason: 'other',
        message: 'the server gave no outcome for this change',
        clashingPath: '',
      };
  }
}
