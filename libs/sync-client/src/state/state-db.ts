import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

/** A block of a local file: where its bytes are, for reading them back at upload time. */
export interface BlockRef {
  readonly hash: string;
  readonly offset: number;
  readonly length: number;
}

/**
 * What the client knows of one path of a synced folder: the server version it last synced
 * (the base) and a cache of the local file's hash keyed by size and mtime, so unchanged files
 * are not read again.
 */
export interface FileState {
  readonly path: string;
  /** Server version last synced; 0 when the path was never synced. */
  readonly baseVersion: number;
  /** Content hash of the base version; '' when never synced. */
  readonly baseContentHash: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Content hash of the local file as of size/mtimeMs. */
  readonly contentHash: string;
  readonly blocks: readonly BlockRef[];
  /**
   * The local file's identity as of size/mtimeMs (see fileIdOf: device and inode); '' or absent
   * when unknown. A new path with a gone path's identity, size and mtime is that file, moved.
   */
  readonly fileId?: string;
  /**
   * The local file's ctime (inode change time, ms) as of size/mtimeMs; 0 or absent when unknown
   * (rows written before it was kept, and files renamed by a pass, until the next scan sees them).
   * See unchangedSince: it is what tells an edit that put the old mtime back from no edit.
   */
  readonly ctimeMs?: number;
}

/** A synced folder as the state records it (FolderState without the count of its files). */
export interface FolderRecord {
  readonly root: string;
  readonly namespaceId: string;
  /**
   * The namespace path the folder is bound to: '' for the namespace root, else a canonical path
   * such as `Photos` (shown to people as `/Photos`; see remote-binding.ts).
   */
  readonly remotePath: string;
  /** Journal cursor of the namespace this folder has learned every change up to; 0: none yet. */
  readonly cursor: number;
  readonly lastSyncAtMs: number;
  /** When the last full diff (the whole folder against the whole namespace) ended; 0: never. */
  readonly lastFullAtMs: number;
  /** Hash of the ignore rules the cursor was kept under ('' before the first pass). */
  readonly rulesHash: string;
  /** Process id of the `filesync sync --watch` that recorded itself watching; 0: none. */
  readonly watcherPid: number;
  /** When the last pass ended (done or failed), and how: '' (never), 'ok', 'incomplete', 'failed'. */
  readonly lastPassAtMs: number;
  readonly lastPassOutcome: PassOutcomeName;
  /** The last pass's error, '' when it ended well. */
  readonly lastError: string;
}

export interface FolderState extends FolderRecord {
  /** Paths of the folder with a synced base (a count over its rows: status and messages only). */
  readonly files: number;
}

/** How a pass ended, as status shows it. */
export type PassOutcomeName = '' | 'ok' | 'incomplete' | 'failed';

const FILE_COLUMNS =
  'path, base_version, base_content_hash, size, mtime_ms, content_hash, block_hashes, block_lengths, file_id, ctime_ms';

/** A files row selected as an array, in FILE_COLUMNS order. */
type FileRowArray = [
  path: string,
  base_version: number,
  base_content_hash: string,
  size: number,
  mtime_ms: number,
  content_hash: string,
  block_hashes: string,
  block_lengths: string,
  file_id: string,
  ctime_ms: number,
];

/**
 * How far a full diff of a folder came before its pass ended without finishing (see
 * StateDb.saveDiffProgress): the next full diff of the folder resumes after `throughPath`
 * (syncdiff.proto, DiffStart.resume_after) if it is made for the same namespace, remote path and
 * ignore rules.
 */
export interface DiffCheckpoint {
  readonly namespaceId: string;
  readonly remotePath: string;
  readonly rulesHash: string;
  /** Every path up to and including this one was decided; its answer, if any, is kept. */
  readonly throughPath: string;
  /** The lowest listing cursor of the diff's parts: the pass's cursor once it ends. */
  readonly cursor: number;
  /** When the diff's first part began (a checkpoint too old is not resumed). */
  readonly startedMs: number;
}

/**
 * The schema's history, oldest first: migration N (index N - 1) brings a database at version
 * N - 1 (SQLite's user_version) to N, in one transaction. Append only; never edit a migration a
 * release has run.
 */
const MIGRATIONS: readonly string[] = [
  // 1: the synced base and local hash cache per path. IF NOT EXISTS: databases made before
  // versioning have these tables at user_version 0.
  `CREATE TABLE IF NOT EXISTS folders (
     root TEXT PRIMARY KEY,
     namespace_id TEXT NOT NULL,
     cursor INTEGER NOT NULL DEFAULT 0,
     last_sync_ms INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE IF NOT EXISTS files (
     root TEXT NOT NULL,
     path TEXT NOT NULL,
     base_version INTEGER NOT NULL,
     base_content_hash TEXT NOT NULL,
     size INTEGER NOT NULL,
     mtime_ms REAL NOT NULL,
     content_hash TEXT NOT NULL,
     block_hashes TEXT NOT NULL,
     block_lengths TEXT NOT NULL,
     PRIMARY KEY (root, path)
   ) WITHOUT ROWID;`,
  // 2: incremental passes. The remote tree where it differs from the synced base (server
  // changes learned but not applied yet), when the last full diff ran, and which ignore rules
  // the cursor was kept under. Cursors stored before this were written after passes whose
  // failed downloads nothing remembered: they are reset, so the next pass is a full diff.
  `CREATE TABLE remote_pending (
     root TEXT NOT NULL,
     path TEXT NOT NULL,
     version INTEGER NOT NULL,
     deleted INTEGER NOT NULL,
     content_hash TEXT NOT NULL,
     PRIMARY KEY (root, path)
   ) WITHOUT ROWID;
   ALTER TABLE folders ADD COLUMN last_full_ms INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE folders ADD COLUMN rules_hash TEXT NOT NULL DEFAULT '';
   UPDATE folders SET cursor = 0;`,
  // 3: status of continuous sync: who watches the folder, how its last pass ended.
  `ALTER TABLE folders ADD COLUMN watcher_pid INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE folders ADD COLUMN last_pass_ms INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE folders ADD COLUMN last_pass_outcome TEXT NOT NULL DEFAULT '';
   ALTER TABLE folders ADD COLUMN last_error TEXT NOT NULL DEFAULT '';`,
  // 4: moves. The local file's device and inode beside its size and mtime, so a file renamed
  // here is known by them without reading it ('' until the next scan or download records it).
  `ALTER TABLE files ADD COLUMN file_id TEXT NOT NULL DEFAULT '';`,
  // 5: folder bindings (issue 8, section 6). The remote path each folder is bound to, canonical
  // and without slashes ('' = the namespace root, where every folder was bound before).
  `ALTER TABLE folders ADD COLUMN remote_path TEXT NOT NULL DEFAULT '';`,
  // 6: the local file's ctime beside its size and mtime (see unchangedSince), so an edit that
  // puts the old mtime back is seen (0 until the next scan or download records it).
  `ALTER TABLE files ADD COLUMN ctime_ms REAL NOT NULL DEFAULT 0;`,
  // 7: a full diff's progress (see DiffCheckpoint), so one that breaks off resumes where it was
  // instead of listing the namespace again; gone once a pass ends.
  `CREATE TABLE diff_checkpoints (
     root TEXT PRIMARY KEY,
     namespace_id TEXT NOT NULL,
     remote_path TEXT NOT NULL,
     rules_hash TEXT NOT NULL,
     through_path TEXT NOT NULL,
     cursor INTEGER NOT NULL,
     started_ms INTEGER NOT NULL
   );
   CREATE TABLE diff_checkpoint_entries (
     root TEXT NOT NULL,
     path TEXT NOT NULL,
     server TEXT,
     PRIMARY KEY (root, path)
   ) WITHOUT ROWID;`,
];

/** The schema version this client writes; a database from a newer client is refused. */
export const STATE_SCHEMA_VERSION = MIGRATIONS.length;

/** The state database was written by a newer filesync: opening it could corrupt what it knows. */
export class StateDbTooNewError extends Error {
  override name = 'StateDbTooNewError';
  constructor(file: string, version: number) {
    super(
      `${file} was written by a newer filesync (state version ${version}, this one knows ` +
        `${STATE_SCHEMA_VERSION}): update filesync, or use another --home`,
    );
  }
}

/**
 * A server change this device knows of and has not applied (the remote tree where it differs
 * from the synced base): a download, a local deletion or a conflict that failed or was left for
 * later. Incremental passes name these paths in their manifest until the base catches up, so
 * the journal cursor can move on without forgetting them.
 */
export interface PendingRemote {
  readonly path: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly contentHash: string;
}

/** The client's state database (state.db in the filesync home), one row per synced path. */
export class StateDb {
  /** Prepared once per SQL text: preparing a statement for each of 10,000 rows cost more than writing them. */
  private readonly statements = new Map<string, StatementSync>();

  private constructor(private readonly db: DatabaseSync) {}

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  static open(file: string): StateDb {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const db = new DatabaseSync(file);
    const state = new StateDb(db);
    try {
      db.exec('PRAGMA busy_timeout = 5000;');
      // Before anything writes: a database of a newer client is left exactly as it is.
      state.refuseNewer(file);
      // WAL keeps a crash mid-sync from losing committed rows and lets a second reader in.
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      state.migrate();
    } catch (error) {
      db.close();
      throw error;
    }
    return state;
  }

  private version(): number {
    return (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  }

  private refuseNewer(file: string): void {
    if (this.version() > STATE_SCHEMA_VERSION) throw new StateDbTooNewError(file, this.version());
  }

  /** Brings the schema to STATE_SCHEMA_VERSION, one migration per transaction (after refuseNewer). */
  private migrate(): void {
    while (this.version() < STATE_SCHEMA_VERSION) {
      const next = this.version() + 1;
      // Checked again inside the write lock: another process may have migrated meanwhile.
      this.transaction(() => {
        if (this.version() >= next) return;
        this.db.exec(MIGRATIONS[next - 1]!);
        this.db.exec(`PRAGMA user_version = ${next}`);
      });
    }
  }

  /**
   * Binds `root` to a namespace. `remotePath` applies to a folder not bound yet; a bound folder
   * keeps its remote path (rebinding one in place would make every file look deleted on one side:
   * see openSyncRoot, which refuses it, and forgetFolder).
   */
  bindFolder(root: string, namespaceId: string, remotePath = ''): void {
    this.statement(
      `INSERT INTO folders (root, namespace_id, remote_path) VALUES (?, ?, ?)
         ON CONFLICT (root) DO UPDATE SET namespace_id = excluded.namespace_id,
           cursor = CASE WHEN folders.namespace_id = excluded.namespace_id THEN folders.cursor ELSE 0 END`,
    ).run(root, namespaceId, remotePath);
  }

  /**
   * Forgets what `root` synced with another namespace (this home signed in to another account or
   * deployment since), so the pass that now syncs it with its new one is a first sync there: no
   * path has a synced base (a base of the old namespace would read as a version of the new one,
   * and an upload would commit over that version without a conflict), nothing counts as deleted
   * locally, the cursor starts over. The hash cache stays: the files need not be read again.
   */
  forgetSyncedBase(root: string): void {
    this.transaction(() => {
      this.statement("UPDATE files SET base_version = 0, base_content_hash = '' WHERE root = ?").run(root);
      this.statement('DELETE FROM remote_pending WHERE root = ?').run(root);
      this.statement('UPDATE folders SET cursor = 0 WHERE root = ?').run(root);
    });
  }

  /**
   * Forgets what was synced at `root`, so the next pass there is a first sync: every server file
   * is downloaded and nothing counts as deleted locally (a folder re-created empty on purpose).
   */
  forgetFolder(root: string): void {
    this.transaction(() => {
      this.dropDiffCheckpoint(root);
      this.statement('DELETE FROM files WHERE root = ?').run(root);
      this.statement('DELETE FROM remote_pending WHERE root = ?').run(root);
      this.statement('DELETE FROM folders WHERE root = ?').run(root);
    });
  }

  /**
   * Carries what was synced at `from` over to `to` (a synced folder moved on disk), so the next
   * pass at `to` sees only real changes. Refuses when `to` has a state of its own: merging two
   * histories could take one folder's files for the other's deletions.
   */
  moveFolder(from: string, to: string): void {
    this.transaction(() => {
      const taken = this.statement('SELECT 1 FROM folders WHERE root = ?').get(to) as unknown;
      const files = this.statement('SELECT COUNT(*) AS n FROM files WHERE root = ?').get(to) as {
        n: number;
      };
      if (taken !== undefined || files.n > 0) throw new Error(`${to} has a sync state of its own`);
      // A diff of the old place is not resumed at the new one: its next pass lists it whole.
      this.dropDiffCheckpoint(from);
      this.statement('UPDATE files SET root = ? WHERE root = ?').run(to, from);
      this.statement('UPDATE remote_pending SET root = ? WHERE root = ?').run(to, from);
      this.statement('UPDATE folders SET root = ? WHERE root = ?').run(to, from);
    });
  }

  /**
   * Records the end of a pass: the journal cursor it learned every change up to, under which
   * ignore rules, and whether it was a full diff.
   */
  markSynced(root: string, cursor: number, atMs: number, pass: { full: boolean; rulesHash: string }): void {
    // The pass applied what its diff said: nothing is left to resume.
    this.dropDiffCheckpoint(root);
    this.statement(
      `UPDATE folders SET cursor = ?, last_sync_ms = ?, rules_hash = ?,
         last_full_ms = CASE WHEN ? THEN ? ELSE last_full_ms END
       WHERE root = ?`,
    ).run(cursor, atMs, pass.rulesHash, pass.full ? 1 : 0, atMs, root);
  }

  /** The progress of a full diff of `root` that did not end in a finished pass, if any. */
  diffCheckpoint(root: string): DiffCheckpoint | undefined {
    const row = this.statement(
      `SELECT namespace_id, remote_path, rules_hash, through_path, cursor, started_ms
         FROM diff_checkpoints WHERE root = ?`,
    ).get(root) as
      | {
          namespace_id: string;
          remote_path: string;
          rules_hash: string;
          through_path: string;
          cursor: number;
          started_ms: number;
        }
      | undefined;
    if (!row) return undefined;
    return {
      namespaceId: row.namespace_id,
      remotePath: row.remote_path,
      rulesHash: row.rules_hash,
      throughPath: row.through_path,
      cursor: row.cursor,
      startedMs: row.started_ms,
    };
  }

  /**
   * The server entries a checkpointed diff answered, by path: the entry, or undefined where the
   * server had none (an upload of a new file).
   */
  diffCheckpointEntries<T>(root: string): Map<string, T | undefined> {
    const rows = this.statement('SELECT path, server FROM diff_checkpoint_entries WHERE root = ?').all(
      root,
    ) as unknown as { path: string; server: string | null }[];
    return new Map(
      rows.map((row) => [row.path, row.server === null ? undefined : (JSON.parse(row.server) as T)]),
    );
  }

  /**
   * Records how far a full diff of `root` has come, and the server entries of the actions it
   * answered since the last call, in one transaction: a checkpoint never names a path whose
   * answer it does not hold.
   */
  saveDiffProgress(
    root: string,
    checkpoint: DiffCheckpoint,
    entries: readonly { readonly path: string; readonly server: unknown }[],
  ): void {
    this.transaction(() => {
      this.statement(
        `INSERT INTO diff_checkpoints (root, namespace_id, remote_path, rules_hash, through_path, cursor, started_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (root) DO UPDATE SET namespace_id = excluded.namespace_id,
             remote_path = excluded.remote_path, rules_hash = excluded.rules_hash,
             through_path = excluded.through_path, cursor = excluded.cursor, started_ms = excluded.started_ms`,
      ).run(
        root,
        checkpoint.namespaceId,
        checkpoint.remotePath,
        checkpoint.rulesHash,
        checkpoint.throughPath,
        checkpoint.cursor,
        checkpoint.startedMs,
      );
      const insert = this.statement(
        `INSERT INTO diff_checkpoint_entries (root, path, server) VALUES (?, ?, ?)
           ON CONFLICT (root, path) DO UPDATE SET server = excluded.server`,
      );
      for (const entry of entries) {
        insert.run(root, entry.path, entry.server === undefined ? null : JSON.stringify(entry.server));
      }
    });
  }

  dropDiffCheckpoint(root: string): void {
    this.statement('DELETE FROM diff_checkpoint_entries WHERE root = ?').run(root);
    this.statement('DELETE FROM diff_checkpoints WHERE root = ?').run(root);
  }

  /**
   * Records server changes about to be applied (see PendingRemote); a newer row replaces an
   * older. Many rows belong in one transaction().
   */
  putPending(root: string, rows: readonly PendingRemote[]): void {
    const insert = this.statement(
      `INSERT INTO remote_pending (root, path, version, deleted, content_hash) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (root, path) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
           content_hash = excluded.content_hash
         WHERE excluded.version >= remote_pending.version`,
    );
    for (const row of rows) insert.run(root, row.path, row.version, row.deleted ? 1 : 0, row.contentHash);
  }

  pending(root: string): PendingRemote[] {
    const rows = this.statement(
      'SELECT path, version, deleted, content_hash FROM remote_pending WHERE root = ?',
    ).all(root) as unknown as { path: string; version: number; deleted: number; content_hash: string }[];
    return rows.map((row) => ({
      path: row.path,
      version: row.version,
      deleted: row.deleted === 1,
      contentHash: row.content_hash,
    }));
  }

  /**
   * Drops the pending changes the synced base has caught up with: a version synced at or past
   * the pending one, or a tombstone where nothing is synced any more. Returns how many are left.
   */
  settlePending(root: string): number {
    this.statement(
      `DELETE FROM remote_pending WHERE root = ?1 AND (
         EXISTS (SELECT 1 FROM files f WHERE f.root = ?1 AND f.path = remote_pending.path
                   AND f.base_version >= remote_pending.version)
         OR (deleted = 1 AND NOT EXISTS (SELECT 1 FROM files f WHERE f.root = ?1
                   AND f.path = remote_pending.path AND f.base_version > 0)))`,
    ).run(root);
    const left = this.statement('SELECT COUNT(*) AS n FROM remote_pending WHERE root = ?').get(root) as {
      n: number;
    };
    return left.n;
  }

  /**
   * Records how a pass of `root` ended (status shows it): `error` is its message, '' when it ended
   * well. A folder the state does not know yet (its first pass failed before binding) is skipped.
   */
  recordPass(root: string, pass: { atMs: number; outcome: PassOutcomeName; error: string }): void {
    this.statement(
      'UPDATE folders SET last_pass_ms = ?, last_pass_outcome = ?, last_error = ? WHERE root = ?',
    ).run(pass.atMs, pass.outcome, pass.error, root);
  }

  /** Records the process watching `root` (0: none); clearing is only by that process. */
  setWatcher(root: string, pid: number): void {
    this.statement('UPDATE folders SET watcher_pid = ? WHERE root = ?').run(pid, root);
  }

  clearWatcher(root: string, pid: number): void {
    this.statement('UPDATE folders SET watcher_pid = 0 WHERE root = ? AND watcher_pid = ?').run(root, pid);
  }

  /** Whether any path below the folder path `prefix` has a synced base. */
  syncedBelow(root: string, prefix: string): boolean {
    // Paths below `prefix/` sort between `prefix/` and `prefix0` ('0' follows '/').
    const row = this.statement(
      'SELECT 1 FROM files WHERE root = ? AND path > ? AND path < ? AND base_version > 0 LIMIT 1',
    ).get(root, `${prefix}/`, `${prefix}0`);
    return row !== undefined;
  }

  folder(root: string): FolderState | undefined {
    return this.folderRows(root, true)[0];
  }

  /** Every synced folder, sorted by root, with the count of its synced files. */
  folders(): FolderState[] {
    return this.folderRows(undefined, true);
  }

  /**
   * folder(root) without the count of its files, which reads every row of the folder: what a
   * pass needs (binding, cursor, rules), at no cost that grows with the folder.
   */
  folderRecord(root: string): FolderRecord | undefined {
    return this.folderRows(root, false)[0];
  }

  /** folders() without the counts of their files (see folderRecord). */
  folderRecords(): FolderRecord[] {
    return this.folderRows(undefined, false);
  }

  private folderRows(root: string | undefined, counted: true): FolderState[];
  private folderRows(root: string | undefined, counted: false): FolderRecord[];
  private folderRows(root: string | undefined, counted: boolean): FolderRecord[] {
    const count = counted
      ? ', (SELECT COUNT(*) FROM files WHERE files.root = f.root AND base_version > 0) AS files'
      : '';
    const statement = this.statement(
      `SELECT f.root, f.namespace_id, f.remote_path, f.cursor, f.last_sync_ms, f.last_full_ms, f.rules_hash,
                f.watcher_pid, f.last_pass_ms, f.last_pass_outcome, f.last_error${count}
         FROM folders f ${root === undefined ? '' : 'WHERE f.root = ?'} ORDER BY f.root`,
    );
    const rows = (root === undefined ? statement.all() : statement.all(root)) as unknown as {
      root: string;
      namespace_id: string;
      remote_path: string;
      cursor: number;
      last_sync_ms: number;
      last_full_ms: number;
      rules_hash: string;
      watcher_pid: number;
      last_pass_ms: number;
      last_pass_outcome: PassOutcomeName;
      last_error: string;
      files?: number;
    }[];
    return rows.map((row) => ({
      root: row.root,
      namespaceId: row.namespace_id,
      remotePath: row.remote_path,
      cursor: row.cursor,
      lastSyncAtMs: row.last_sync_ms,
      lastFullAtMs: row.last_full_ms,
      rulesHash: row.rules_hash,
      ...(counted ? { files: row.files ?? 0 } : {}),
      watcherPid: row.watcher_pid,
      lastPassAtMs: row.last_pass_ms,
      lastPassOutcome: row.last_pass_outcome,
      lastError: row.last_error,
    }));
  }

  files(root: string): Map<string, FileState> {
    // Row by row: a folder of 100,000 files never holds every raw row next to its parsed state.
    // Rows as arrays (FILE_COLUMNS order), not objects: a third less time for a folder's rows, read
    // on every pass. Its own statement, so that no other caller gets arrays from it.
    const files = new Map<string, FileState>();
    const statement = this.statement(`SELECT ${FILE_COLUMNS} FROM files WHERE root = ? -- as arrays`);
    statement.setReturnArrays(true);
    for (const row of statement.iterate(root) as Iterable<unknown> as Iterable<FileRowArray>) {
      files.set(row[0], fromRow(row));
    }
    return files;
  }

  /**
   * Paths of a folder whose name holds the conflicted-copy marker (see conflictCopyName), sorted:
   * files this device synced or saw. One indexed range of the folder's rows, no hashing.
   */
  conflictCopyPaths(root: string): string[] {
    const rows = this.statement(
      `SELECT path FROM files WHERE root = ? AND path LIKE '%(conflicted copy %' ORDER BY path`,
    ).all(root) as unknown as { path: string }[];
    return rows.map((row) => row.path);
  }

  get(root: string, path: string): FileState | undefined {
    const statement = this.statement(
      `SELECT ${FILE_COLUMNS} FROM files WHERE root = ? AND path = ? -- as arrays`,
    );
    statement.setReturnArrays(true);
    const row = statement.get(root, path) as unknown as FileRowArray | undefined;
    return row ? fromRow(row) : undefined;
  }

  put(root: string, state: FileState): void {
    this.statement(
      `INSERT INTO files (root, path, base_version, base_content_hash, size, mtime_ms, content_hash, block_hashes, block_lengths, file_id, ctime_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (root, path) DO UPDATE SET
           base_version = excluded.base_version, base_content_hash = excluded.base_content_hash,
           size = excluded.size, mtime_ms = excluded.mtime_ms, content_hash = excluded.content_hash,
           block_hashes = excluded.block_hashes, block_lengths = excluded.block_lengths,
           file_id = excluded.file_id, ctime_ms = excluded.ctime_ms`,
    ).run(
      root,
      state.path,
      state.baseVersion,
      state.baseContentHash,
      state.size,
      state.mtimeMs,
      state.contentHash,
      JSON.stringify(state.blocks.map((block) => block.hash)),
      JSON.stringify(state.blocks.map((block) => block.length)),
      state.fileId ?? '',
      state.ctimeMs ?? 0,
    );
  }

  delete(root: string, path: string): void {
    this.statement('DELETE FROM files WHERE root = ? AND path = ?').run(root, path);
  }

  /** Runs `work` in one transaction: many row writes cost one fsync. */
  transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

function fromRow(row: FileRowArray): FileState {
  const [
    path,
    baseVersion,
    baseContentHash,
    size,
    mtimeMs,
    contentHash,
    blockHashes,
    blockLengths,
    fileId,
    ctimeMs,
  ] = row;
  const hashes = JSON.parse(blockHashes) as string[];
  const lengths = JSON.parse(blockLengths) as number[];
  let offset = 0;
  const blocks = hashes.map((hash, index) => {
    const length = lengths[index] ?? 0;
    const block = { hash, offset, length };
    offset += length;
    return block;
  });
  // Most rows are synced files whose two hashes are equal: one string, not two copies.
  const base = baseContentHash === contentHash ? contentHash : baseContentHash;
  // Two literals rather than a spread of a conditional object: no object thrown away per row.
  if (!fileId)
    return { path, baseVersion, baseContentHash: base, size, mtimeMs, contentHash, blocks, ctimeMs };
  return { path, baseVersion, baseContentHash: base, size, mtimeMs, contentHash, blocks, fileId, ctimeMs };
}

/**
 * A local file's identity for move detection: its device and inode, as lstat reports them. Two
 * paths with one identity at one moment are one file; across time an inode may be reused, so a
 * match counts only with the same size and mtime (and, for a commit, the same content hash).
 */
export function fileIdOf(stats: { readonly dev?: number; readonly ino?: number }): string {
  // A file system without inodes (or a fake) reports none: no identity, rather than one for all.
  if (typeof stats.dev !== 'number' || typeof stats.ino !== 'number' || stats.ino === 0) return '';
  return `${stats.dev}:${stats.ino}`;
}

/**
 * Whether a file's lstat (`now`) still shows the file `seen` was taken from (a scan's LocalFile,
 * a state row): the same size and mtime, and the same ctime when `seen` knows one. The ctime is
 * the one time a user cannot set: an edit that puts the old mtime back (`touch -r`, `cp -p`,
 * `rsync -t`) changes it, and so is never taken for no change and overwritten. A ctime also moves
 * on chmod, a new hard link or a rename of the file itself: that costs a read of the file, never
 * an upload (its content hash comes out the same). Rows from before ctimes were kept compare by
 * size and mtime alone, as every row did then.
 */
export function unchangedSince(
  now: { readonly size: number; readonly mtimeMs: number; readonly ctimeMs: number },
  seen: { readonly size: number; readonly mtimeMs: number; readonly ctimeMs?: number },
): boolean {
  return (
    now.size === seen.size && now.mtimeMs === seen.mtimeMs && (!seen.ctimeMs || now.ctimeMs === seen.ctimeMs)
  );
}
