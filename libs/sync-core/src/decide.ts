/**
 * The diff rule: what a client must do for one path, given what it knows of the path (its
 * manifest entry) and what the server holds (the current entry, tombstones included). One rule
 * for both sides: sync-diff decides the paths a client names with it, and the client decides with
 * it the journal changes to paths it did not name (an incremental diff).
 *
 * Guiding principle: nothing is lost unseen. When both sides changed, the client keeps its
 * content as a conflicted copy; an edit wins over a concurrent delete, on either side.
 */

/**
 * What a client does for one path. 'move-local' is never the rule's own answer: an incremental
 * diff makes it of a 'download' whose version a move made (see syncdiff.proto, MOVE_LOCAL).
 */
export type ActionKind =
  'upload' | 'download' | 'delete-local' | 'delete-remote' | 'conflict' | 'record' | 'move-local';

/** What the client reports for a path (validated and canonical). */
export interface LocalEntry {
  readonly path: string;
  /** Content hash of the local file; empty when the file is gone locally. */
  readonly contentHash: string;
  readonly size: number;
  /** Server version last synced, 0 if never. */
  readonly baseVersion: number;
  /** Content hash of that synced version, empty if never synced. */
  readonly baseContentHash: string;
  /** The file existed at baseVersion and was deleted locally. */
  readonly deleted: boolean;
}

/** The part of a server entry the rule reads. */
export interface ServerState {
  readonly version: number;
  /** True for a tombstone. */
  readonly deleted: boolean;
  /** Empty for a tombstone. */
  readonly contentHash: string;
}

export interface Decision<S extends ServerState> {
  readonly kind: ActionKind;
  /** The version to commit against (upload, delete-remote); 0 otherwise. */
  readonly baseVersion: number;
  /** The server entry the action refers to, when the server has one. */
  readonly server: S | undefined;
}

/** A file counts as gone locally when flagged deleted or when it has no content hash. */
export function isGoneLocally(local: LocalEntry): boolean {
  return local.deleted || local.contentHash === '';
}

/**
 * Decides one path. `undefined` means the path is in sync and the client needs no message.
 * A server version lower than the client's base (the server lost history) is treated like a
 * newer one: the server moved away from what the client saw.
 */
export function decide<S extends ServerState>(
  local: LocalEntry | undefined,
  server: S | undefined,
): Decision<S> | undefined {
  if (!local) {
    // Only the server knows the path: fetch it, unless it is a tombstone the client never had.
    return server && !server.deleted ? action('download', 0, server) : undefined;
  }

  const gone = isGoneLocally(local);
  if (!server) {
    // A deleted file the server never had needs nothing; a new local file is uploaded.
    return gone ? undefined : action<S>('upload', 0, undefined);
  }

  const serverMoved = server.version !== local.baseVersion;

  if (gone) {
    if (server.deleted) return action('record', 0, server);
    // Deleted here while edited there: the edit wins and comes back.
    return serverMoved ? action('download', 0, server) : action('delete-remote', local.baseVersion, server);
  }

  if (!server.deleted && server.contentHash === local.contentHash) {
    return serverMoved ? action('record', 0, server) : undefined;
  }

  if (!serverMoved) return action('upload', server.version, server);

  const unchangedLocally = local.baseVersion > 0 && local.contentHash === local.baseContentHash;
  if (unchangedLocally) {
    return server.deleted ? action('delete-local', 0, server) : action('download', 0, server);
  }
  // Changed on both sides. Against a delete the local edit wins and is committed on top of the
  // tombstone; against an edit both contents survive as a conflict.
  return server.deleted ? action('upload', server.version, server) : action('conflict', 0, server);
}

function action<S extends ServerState>(
  kind: ActionKind,
  baseVersion: number,
  server: S | undefined,
): Decision<S> {
  return { kind, baseVersion, server };
}
