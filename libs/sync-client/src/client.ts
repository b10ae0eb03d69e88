import { access, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { status } from '@grpc/grpc-js';
import { type common, grpcCode, unary } from '@filesync/contracts';
import { canonicalPath, isAlive } from '@filesync/sync-core';
import { DEFAULT_SERVER, serverAddresses, type TransportChoice } from './config/server-addresses';
import {
  describeTlsFailure,
  isCertainTlsFailure,
  errorDetails,
  transportContext,
  type TransportContext,
} from './config/tls-errors';
import { readTrustedCa } from './config/trusted-ca';
import { describeFailure, storedFailureText, unreachableMessage, type FailureContext } from './failure-text';
import { createServiceClients, TIMEOUTS, type ServiceClients } from './grpc/clients';
import type { Hasher } from './hashing/hash-file';
import { WorkerHasher } from './hashing/worker-hasher';
import type { ScanFileSystem } from './scan/scanner';
import { Authenticator } from './session/authenticator';
import { DeviceChoiceError } from './session/errors';
import { prepareHome } from './session/home';
import { SessionStore, type StoredSession } from './session/session-store';
import { StateDb, StateDbTooNewError, type FolderState, type PassOutcomeName } from './state/state-db';
import { S3BlockStore } from './storage/block-store';
import { StorageCredentialsProvider } from './storage/storage-credentials';
import { syncFolder, type SyncOptions } from './sync/engine';
import { GrpcSyncRemote } from './grpc/sync-remote';
import { acquireSyncLock } from './sync/sync-lock';
import {
  bindSyncRoot,
  FolderBindingError,
  forgetSyncRoot,
  moveSyncRoot,
  openSyncRoot,
  SyncFolderMissingError,
  SyncFolderUnreadableError,
  SyncRootChoiceError,
} from './sync/sync-root';
import { GrpcChangeFeed } from './grpc/change-feed';
import { NotSignedInError } from './session/authenticator';
import { isIncomplete, SyncIncompleteError } from './sync/summary';
import { countLocalChanges } from './watch/local-changes';
import { watchFolder, type WatchEvent, type WatchTiming } from './watch/watch-folder';
import { parseConflictCopyName } from './sync/conflict-name';
import {
  BoundRemote,
  displayRemotePath,
  parseRemotePath,
  pathRoom,
  RemotePathError,
} from './sync/remote-binding';
import { TrashClient, type RestoreReport, type TrashItem, type VersionInfo } from './trash/trash-client';
import type { SyncSummary } from './sync/summary';

export interface OpenOptions {
  /** Where session.json and state.db live; default FILESYNC_HOME or ~/.filesync. */
  readonly home?: string;
  /** `[grpcs://]host[:basePort]` of the deployment; default: FILESYNC_SERVER, the signed-in server, then the local stack. */
  readonly server?: string;
  /** `--tls`, `--insecure`: see serverAddresses. */
  readonly transport?: TransportChoice;
  /** A CA file trusted beside the system roots (`--ca`); default FILESYNC_CA. */
  readonly ca?: string;
  /** Default: pino to stderr at FILESYNC_LOG_LEVEL (warn). */
  readonly logger?: Logger;
  /** The scan's reads of synced folders; default node:fs (a port for injecting disk faults). */
  readonly scanFileSystem?: ScanFileSystem;
}

export interface SyncCallOptions extends SyncOptions {
  /**
   * Create `dir` when it is missing. Without it a missing folder is an error
   * (SyncFolderMissingError): it may be moved or on a drive that is not mounted, and syncing an
   * empty folder in its place would delete everything. A folder created where one was synced
   * before starts afresh: everything is downloaded into it, nothing is deleted.
   */
  readonly create?: boolean;
  /**
   * The synced folder that `dir` was moved from (`--moved-from`): its sync state becomes `dir`'s
   * before the pass (see moveSyncRoot), so only real changes sync instead of a first sync that
   * makes conflicted copies.
   */
  readonly movedFrom?: string;
  /**
   * The remote path to bind `dir` to (`--remote /Photos`; '/' is the namespace root): only the
   * files below it sync into the folder. Absent: as bound, or the root for a folder synced for the
   * first time. A bound folder asked for another path, or a path that overlaps another folder's
   * binding, is refused (FolderBindingError); an invalid path is a RemotePathError.
   */
  readonly remote?: string;
}

/** Who is signed in on this device. */
export interface AccountInfo {
  readonly email: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly namespaceId: string;
  readonly server: string;
}

export interface WatchCallOptions {
  /** Ends the watch: the running pass stops at a safe point (or finishes), then it resolves. */
  readonly signal: AbortSignal;
  /** Create `dir` when it is missing (see SyncCallOptions.create); only at the start. */
  readonly create?: boolean;
  /** The remote path to bind a folder not bound yet (see SyncCallOptions.remote). */
  readonly remote?: string;
  /** Passes may delete many files at once (see SyncOptions.force). */
  readonly force?: boolean;
  readonly maxDelete?: number;
  readonly onEvent?: (event: WatchEvent) => void;
  /** Debounce, backoffs and polling (defaults in DEFAULT_WATCH_TIMING). */
  readonly timing?: Partial<WatchTiming>;
}

/** A synced folder as `filesync status` shows it. */
export interface FolderStatus extends FolderState {
  /** A live `filesync sync --watch` keeps it in sync (its pid is watcherPid). */
  readonly watching: boolean;
  /**
   * Paths that differ from the synced base by size and mtime (new, edited, deleted here);
   * undefined when the folder could not be read (lastError says why, or it is missing).
   */
  readonly pendingLocalChanges: number | undefined;
  /** The folder is not there (moved, deleted, not mounted). */
  readonly missing: boolean;
}

export interface ServerCheck {
  /** The server answered an authenticated call within the timeout. */
  readonly reachable: boolean;
  /** The session is valid (the server accepted it, renewing the access token if needed). */
  readonly sessionValid: boolean;
  /** Round trip of the check, ms. */
  readonly ms: number;
  /** What went wrong, when something did. */
  readonly error?: string;
  /**
   * The connection failed for a TLS reason (a certificate not trusted, TLS against plaintext):
   * configuration to fix here, not the network; `error` says what to do.
   */
  readonly tlsFailure?: boolean;
}

export interface ClientStatus extends AccountInfo {
  readonly home: string;
  readonly accessTokenExpiresAtMs: number;
  readonly refreshTokenExpiresAtMs: number;
  readonly syncedFolders: FolderStatus[];
  /** Absent when the check was not asked for (status({ checkServer: false })). */
  readonly serverCheck?: ServerCheck;
}

/** How long `status` waits for the server. */
const STATUS_CHECK_TIMEOUT_MS = 5_000;
/** A device of the account, as `filesync devices` lists it. */
export interface DeviceInfo {
  readonly deviceId: string;
  readonly name: string;
  /** When it signed in, Unix ms. */
  readonly createdAtMs: number;
  /**
   * When it last renewed its session (a running client does once per access-token lifetime,
   * 15 minutes by default) or signed in, Unix ms; 0 when the server does not say.
   */
  readonly lastSeenAtMs: number;
  /** This device. */
  readonly current: boolean;
}

/** A conflicted copy in a synced folder. */
export interface ConflictCopy {
  /** The synced folder. */
  readonly root: string;
  /** The copy, relative to the folder. */
  readonly path: string;
  readonly absPath: string;
  /** The file it was kept beside, relative to the folder. */
  readonly original: string;
  /** The device that kept it ('' when its name had no room for it). */
  readonly device: string;
  /** When, `YYYY-MM-DD HHMMSS` local time of that device. */
  readonly madeAt: string;
}

export function defaultHome(): string {
  return process.env.FILESYNC_HOME || join(homedir(), '.filesync');
}

/** The filesync client of one device (one FILESYNC_HOME). Close it when done. */
export class FilesyncClient {
  private hasher: Hasher | undefined;
  private blocks: S3BlockStore | undefined;

  private constructor(
    readonly home: string,
    readonly server: string,
    /** How connections are made: what the advice for a failed one depends on. */
    readonly transport: TransportContext,
    private readonly clients: ServiceClients,
    private readonly auth: Authenticator,
    private readonly state: StateDb,
    private readonly logger: Logger,
    private readonly scanFileSystem: ScanFileSystem | undefined,
    private readonly extraCa: string | undefined,
  ) {}

  static async open(options: OpenOptions = {}): Promise<FilesyncClient> {
    const home = resolve(options.home ?? defaultHome());
    await prepareHome(home);
    const store = new SessionStore(home);
    const stored = await store.load();
    // An explicit choice wins over the server the session was created with.
    const addresses = serverAddresses(
      options.server ?? (process.env.FILESYNC_SERVER || undefined) ?? stored?.server ?? DEFAULT_SERVER,
      options.transport,
    );
    const extraCa = await readTrustedCa(options.ca);
    const clients = createServiceClients(addresses, extraCa);
    const auth = new Authenticator(store, clients.auth, addresses.server);
    await auth.load();
    const logger =
      options.logger ??
      pino({ name: 'filesync', level: process.env.FILESYNC_LOG_LEVEL || 'warn' }, pino.destination(2));
    return new FilesyncClient(
      home,
      addresses.server,
      transportContext(addresses),
      clients,
      auth,
      StateDb.open(join(home, 'state.db')),
      logger,
      options.scanFileSystem,
      extraCa,
    );
  }

  /** Plaintext to a host that is not loopback (`--insecure`): the CLI warns. */
  get insecure(): boolean {
    return this.transport.insecure;
  }

  /** The signed-in account's email, undefined when nobody is signed in. */
  get signedInEmail(): string | undefined {
    return this.auth.session?.email;
  }

  async signup(email: string, password: string, deviceName?: string): Promise<AccountInfo> {
    return accountInfo(await this.auth.signUp(email, password, deviceName));
  }

  async login(email: string, password: string, deviceName?: string): Promise<AccountInfo> {
    return accountInfo(await this.auth.login(email, password, deviceName));
  }

  /** One two-way sync pass of `dir` with its remote path of the account's root namespace. */
  async sync(dir: string, options: SyncCallOptions = {}): Promise<SyncSummary> {
    return this.pass(dir, options);
  }

  /**
   * Keeps `dir` in sync until `options.signal` aborts (see watchFolder): file-system events and
   * the server's journal trigger passes. Records this process as the folder's watcher while it
   * runs. Rejects with the error that ended it early: SyncFolderMissingError (nothing deleted),
   * NotSignedInError, SyncRootChoiceError; another watcher of the folder is refused at the start.
   */
  async watch(dir: string, options: WatchCallOptions): Promise<void> {
    const session = this.auth.requireSession();
    const root = await openSyncRoot(dir, this.state, {
      create: options.create,
      binding: {
        namespaceId: session.rootNamespaceId,
        remotePath: options.remote === undefined ? undefined : parseRemotePath(options.remote),
      },
    });
    const other = this.state.folderRecord(root)?.watcherPid ?? 0;
    if (other !== 0 && other !== process.pid && isAlive(other)) {
      throw new WatchBusyError(`${root} is watched already by filesync (pid ${other})`);
    }
    const watcherPid = process.pid;
    // Watching from now on for status (a folder synced before; a new one once its first pass binds it).
    this.state.setWatcher(root, watcherPid);
    const privateFolders = [await realpath(this.home)];
    // Once a pass has bound the folder, a binding that is gone was unlinked (by an older client,
    // or by hand): the watch ends instead of binding the folder afresh somewhere else.
    let bound = this.state.folder(root) !== undefined;
    try {
      await watchFolder(
        {
          root,
          namespaceId: session.rootNamespaceId,
          state: this.state,
          feed: new GrpcChangeFeed(this.clients, () => this.auth.accessToken()),
          renewSession: async () => {
            await this.auth.renewAccessToken();
          },
          runPass: async ({ full, signal }) => {
            if (bound && this.state.folder(root) === undefined) {
              throw new SyncRootChoiceError(
                `${root} was unlinked while it was watched: the watch ends; nothing was changed`,
              );
            }
            try {
              return await this.pass(
                root,
                { full, signal, force: options.force, maxDelete: options.maxDelete, remote: options.remote },
                watcherPid,
              );
            } finally {
              bound ||= this.state.folder(root) !== undefined;
            }
          },
          watchLocal: async (events) =>
            (await import('./watch/local-watcher')).watchLocalFolder(root, events, { privateFolders }),
          isFatal: (error) =>
            error instanceof SyncFolderMissingError ||
            error instanceof SyncFolderUnreadableError ||
            error instanceof SyncRootChoiceError ||
            error instanceof FolderBindingError ||
            error instanceof RemotePathError ||
            error instanceof NotSignedInError ||
            error instanceof StateDbTooNewError ||
            // A certificate not trusted, TLS against plaintext: configuration to fix, not a
            // server to wait for (the CLI explains it in one line).
            isCertainTlsFailure(errorDetails(error)),
          logger: this.logger,
          timing: options.timing,
          onEvent: options.onEvent,
        },
        options.signal,
      );
    } finally {
      this.state.clearWatcher(root, watcherPid);
    }
  }

  /** One pass under the sync lock, its outcome recorded for status (and its watcher, if any). */
  private async pass(dir: string, options: SyncCallOptions, watcherPid?: number): Promise<SyncSummary> {
    const session = this.auth.requireSession();
    const wanted = options.remote === undefined ? undefined : parseRemotePath(options.remote);
    const release = await acquireSyncLock(this.home);
    let root: string | undefined;
    try {
      if (options.movedFrom !== undefined) {
        // Checked before the state moves: a refused binding changes nothing.
        const old = this.state.folders().find((folder) => folder.root === resolve(options.movedFrom!));
        if (old && wanted !== undefined && old.remotePath !== wanted) {
          throw new FolderBindingError(
            `${old.root} was synced with ${displayRemotePath(old.remotePath)}, not ${displayRemotePath(wanted)}; ` +
              'nothing was changed. Move it without --remote (it keeps its remote path), or unlink it first',
          );
        }
        await moveSyncRoot(options.movedFrom, dir, this.state);
      }
      const namespaceId = session.rootNamespaceId;
      root = await openSyncRoot(dir, this.state, {
        create: options.create,
        binding: { namespaceId, remotePath: wanted },
      });
      // A dry run checks the binding but records none.
      const remotePath = bindSyncRoot(root, this.state, {
        namespaceId,
        remotePath: wanted,
        record: options.dryRun !== true,
      });
      this.hasher ??= new WorkerHasher(2);
      this.blocks ??= new S3BlockStore(() => this.storageCredentials.get(), { extraCa: this.extraCa });
      const summary = await syncFolder(
        root,
        namespaceId,
        {
          state: this.state,
          hasher: this.hasher,
          blocks: this.blocks,
          remote: new BoundRemote(
            new GrpcSyncRemote(this.clients, () => this.auth.accessToken()),
            remotePath,
          ),
          maxPathBytes: pathRoom(remotePath),
          logger: this.logger,
          deviceLabel: session.deviceName || session.deviceId.slice(0, 8),
          privateFolders: [await realpath(this.home)],
          scanFileSystem: this.scanFileSystem,
        },
        {
          onProgress: options.onProgress,
          force: options.force,
          maxDelete: options.maxDelete,
          full: options.full,
          signal: options.signal,
          dryRun: options.dryRun,
        },
      );
      // A dry run leaves the state as it was, the status's last pass included.
      if (!options.dryRun) this.recordPass(root, isIncomplete(summary) ? 'incomplete' : 'ok', '', watcherPid);
      return summary;
    } catch (error) {
      if (root !== undefined && !options.dryRun) {
        const outcome = error instanceof SyncIncompleteError ? 'incomplete' : 'failed';
        // Stored as the CLI says it: status shows it long after, to someone who never saw grpc-js's text.
        this.recordPass(root, outcome, this.failureText(error), watcherPid);
      }
      throw error;
    } finally {
      await release();
    }
  }

  private recordPass(root: string, outcome: PassOutcomeName, error: string, watcherPid?: number): void {
    this.state.recordPass(root, { atMs: Date.now(), outcome, error });
    if (watcherPid !== undefined) this.state.setWatcher(root, watcherPid);
  }

  /**
   * Stops knowing `dir` as a synced folder of this device and forgets its binding to a remote
   * path (a folder deleted or moved for good, or to be bound elsewhere): status no longer lists
   * it. Its files stay where they are, here and on the server; syncing it again is a first sync.
   */
  async unlink(dir: string): Promise<FolderState> {
    const release = await acquireSyncLock(this.home);
    try {
      return await forgetSyncRoot(dir, this.state);
    } finally {
      await release();
    }
  }

  /** The former name of unlink. */
  forget(dir: string): Promise<FolderState> {
    return this.unlink(dir);
  }

  /** Confirms the account's email address with the code from the verification mail. */
  async verifyEmail(code: string): Promise<void> {
    await this.auth.verifyEmail(code);
  }

  /** Mails a new verification code; true when the address was verified already (no mail). */
  async resendVerificationEmail(): Promise<boolean> {
    return this.auth.resendVerificationEmail();
  }

  /** Follows a namespace path ('' = everything): later changes at or below it are mailed. */
  async follow(path: string): Promise<void> {
    const request = { namespaceId: this.namespaceId(), path: followPath(path) };
    const follow = (accessToken: string) =>
      unary(this.clients.metadata.follow.bind(this.clients.metadata), request, {
        timeoutMs: TIMEOUTS.unaryMs,
        accessToken,
      });
    try {
      await follow(await this.auth.accessToken());
    } catch (error) {
      // The address may have been verified since this token was issued (on another device, or
      // by another process): one renewed token says so, or the refusal stands.
      if (grpcCode(error) !== status.FAILED_PRECONDITION) throw error;
      await follow(await this.auth.renewAccessToken());
    }
  }

  /** Every version of a namespace path, newest first. */
  async versions(path: string): Promise<common.FileEntry[]> {
    const response = await unary(
      this.clients.metadata.listVersions.bind(this.clients.metadata),
      { namespaceId: this.namespaceId(), path: canonicalPath(path) },
      { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.auth.accessToken() },
    );
    return response.versions;
  }

  /** Every retained version of a namespace path, newest first: device names, until when each is kept. */
  async versionHistory(path: string): Promise<VersionInfo[]> {
    return this.trashClient().versions(canonicalPath(path));
  }

  /** Deleted files at or below a namespace path ('' = everywhere) that can still be restored. */
  async trash(path = ''): Promise<TrashItem[]> {
    return this.trashClient().list(path === '' ? '' : canonicalPath(path));
  }

  /**
   * Restores the deleted file at a namespace path, or every deleted file below it, without an
   * upload: other devices download them on their next pass, this one on its next sync. With
   * `version`, commits that version of the file (live or deleted) on top of the current one.
   */
  async restore(path: string, options: { version?: number } = {}): Promise<RestoreReport> {
    const trash = this.trashClient();
    return options.version === undefined
      ? trash.restore(canonicalPath(path))
      : trash.restoreVersion(canonicalPath(path), options.version);
  }

  private trashClient(): TrashClient {
    return new TrashClient(this.clients, () => this.auth.accessToken(), this.namespaceId());
  }

  /**
   * Signs this device out (see Authenticator.logout): `revoked` says whether the server ended the
   * session too. The synced folders' state stays, so a later login on this device goes on with it.
   */
  async logout(): Promise<{ email: string; revoked: boolean; error?: unknown }> {
    const { email } = this.auth.requireSession();
    const fixableHere = (error: unknown) => describeTlsFailure(errorDetails(error), this.transport);
    return { email, ...(await this.auth.logout({ fixableHere })) };
  }

  /** The account's devices, oldest first; `current` marks this one. */
  async devices(): Promise<DeviceInfo[]> {
    const session = this.auth.requireSession();
    const { devices } = await unary(
      this.clients.auth.listDevices.bind(this.clients.auth),
      {},
      { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.auth.accessToken() },
    );
    return devices.map((device) => ({
      deviceId: device.deviceId,
      name: device.name,
      createdAtMs: device.createdAtMs,
      lastSeenAtMs: device.lastSeenAtMs,
      current: device.deviceId === session.deviceId,
    }));
  }

  /**
   * Removes another device of the account, named by its id, an unambiguous id prefix or its name
   * (when no other device has it). Throws DeviceChoiceError when the name fits none or several.
   */
  async removeDevice(nameOrId: string): Promise<DeviceInfo> {
    const devices = await this.devices();
    const byId = devices.filter(
      (device) =>
        device.deviceId === nameOrId || (nameOrId.length >= 4 && device.deviceId.startsWith(nameOrId)),
    );
    const matches = byId.length > 0 ? byId : devices.filter((device) => device.name === nameOrId);
    if (matches.length === 0)
      throw new DeviceChoiceError(
        `no device named or with id "${nameOrId}": \`filesync devices\` lists them`,
      );
    if (matches.length > 1)
      throw new DeviceChoiceError(
        `${matches.length} devices are named "${nameOrId}": name one by its id (\`filesync devices\` lists them)`,
      );
    const device = matches[0]!;
    if (device.current)
      throw new DeviceChoiceError('that is this device: sign it out with `filesync logout`');
    await unary(
      this.clients.auth.removeDevice.bind(this.clients.auth),
      { deviceId: device.deviceId },
      { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.auth.accessToken() },
    );
    return device;
  }

  /**
   * Stops following a namespace path ('' = the whole namespace); resolves with whether it was
   * followed (no error when it was not: the server's Unfollow does not say, ListFollows does).
   */
  async unfollow(path: string): Promise<{ wasFollowing: boolean }> {
    const wasFollowing = (await this.following()).includes(followPath(path));
    await unary(
      this.clients.metadata.unfollow.bind(this.clients.metadata),
      { namespaceId: this.namespaceId(), path: followPath(path) },
      { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.auth.accessToken() },
    );
    return { wasFollowing };
  }

  /** Every path this account follows, sorted ('' = everything). */
  async following(): Promise<string[]> {
    const paths: string[] = [];
    let pageToken = '';
    do {
      const page = await unary(
        this.clients.metadata.listFollows.bind(this.clients.metadata),
        { namespaceId: this.namespaceId(), limit: 0, pageToken },
        { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.auth.accessToken() },
      );
      paths.push(...page.paths);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return paths;
  }

  /**
   * The conflicted copies in this device's synced folders (by name, from the state database: no
   * scan, no hashing), each with the path of the file it was kept beside. Only copies still on disk.
   */
  async conflicts(): Promise<ConflictCopy[]> {
    const copies: ConflictCopy[] = [];
    for (const { root } of this.state.folderRecords()) {
      for (const path of this.state.conflictCopyPaths(root)) {
        const slash = path.lastIndexOf('/');
        const info = parseConflictCopyName(path.slice(slash + 1));
        if (!info) continue;
        const absPath = join(root, ...path.split('/'));
        if (!(await exists(absPath))) continue;
        const original = `${slash >= 0 ? path.slice(0, slash + 1) : ''}${info.original}`;
        copies.push({ root, path, absPath, original, device: info.device, madeAt: info.madeAt });
      }
    }
    return copies;
  }

  /**
   * Who is signed in, each synced folder (watched or not, its last pass, local changes waiting,
   * its last error) and, unless `checkServer` is false, whether the server answers and accepts
   * the session (within STATUS_CHECK_TIMEOUT_MS; never throws for an unreachable server).
   */
  async status(options: { checkServer?: boolean } = {}): Promise<ClientStatus> {
    const session = this.auth.requireSession();
    const privateFolders = [await realpath(this.home)];
    const syncedFolders = await Promise.all(
      this.state.folders().map(async (folder): Promise<FolderStatus> => {
        const pending = await isFolder(folder.root).then((present) =>
          present ? countLocalChanges(folder.root, this.state, privateFolders).catch(() => undefined) : null,
        );
        return {
          ...folder,
          lastError: storedFailureText(folder.lastError, this.failureContext()),
          watching: folder.watcherPid !== 0 && isAlive(folder.watcherPid),
          pendingLocalChanges: pending ?? undefined,
          missing: pending === null,
        };
      }),
    );
    const serverCheck = options.checkServer === false ? undefined : await this.checkServer();
    // The check may have renewed the access token.
    const current = this.auth.requireSession();
    return {
      ...accountInfo(session),
      // The server this run talks to (--server, FILESYNC_SERVER), which the check went to: the
      // session's own may be another, and the line naming one beside the other's failure misleads.
      server: this.server,
      home: this.home,
      accessTokenExpiresAtMs: current.accessTokenExpiresAtMs,
      refreshTokenExpiresAtMs: current.refreshTokenExpiresAtMs,
      syncedFolders,
      ...(serverCheck ? { serverCheck } : {}),
    };
  }

  /** One cheap authenticated call (ListDevices), renewing the access token if it expired. */
  private async checkServer(): Promise<ServerCheck> {
    const startedMs = Date.now();
    const signal = AbortSignal.timeout(STATUS_CHECK_TIMEOUT_MS);
    const elapsed = () => Date.now() - startedMs;
    try {
      const token = await Promise.race([
        this.auth.accessToken(),
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('no answer')), { once: true }),
        ),
      ]);
      await unary(
        this.clients.auth.listDevices.bind(this.clients.auth),
        {},
        { timeoutMs: STATUS_CHECK_TIMEOUT_MS, accessToken: token, signal },
      );
      return { reachable: true, sessionValid: true, ms: elapsed() };
    } catch (error) {
      const code = grpcCode(error);
      const message = (error as Partial<{ details: string; message: string }>).details || String(error);
      if (code === status.UNAUTHENTICATED || error instanceof NotSignedInError) {
        return { reachable: true, sessionValid: false, ms: elapsed(), error: this.failureText(error) };
      }
      const unreachable =
        code === undefined ||
        code === status.UNAVAILABLE ||
        code === status.DEADLINE_EXCEEDED ||
        code === status.CANCELLED;
      if (!unreachable)
        return { reachable: true, sessionValid: true, ms: elapsed(), error: this.failureText(error) };
      const tls = describeTlsFailure(message, this.transport);
      if (tls !== undefined)
        return { reachable: false, sessionValid: false, ms: elapsed(), error: tls, tlsFailure: true };
      const timedOut = code === status.DEADLINE_EXCEEDED || signal.aborted;
      // The address the user gave and what to check, as every command says it: never grpc-js's
      // nested causes, which name the service port the call went to.
      return {
        reachable: false,
        sessionValid: false,
        ms: elapsed(),
        error: unreachableMessage(this.server, timedOut ? 'no answer' : message),
      };
    }
  }

  /** What a failure's line may name (see describeFailure). */
  private failureContext(): FailureContext {
    return { server: this.server, transport: this.transport, email: this.auth.session?.email };
  }

  /** A failure as `filesync status` shows it, and the CLI says it. */
  private failureText(error: unknown): string {
    return describeFailure(error, this.failureContext());
  }

  async close(): Promise<void> {
    await this.hasher?.close();
    this.blocks?.destroy();
    this.clients.close();
    this.state.close();
  }

  private namespaceId(): string {
    return this.auth.requireSession().rootNamespaceId;
  }

  private storageCredentialsProvider: StorageCredentialsProvider | undefined;
  private get storageCredentials(): StorageCredentialsProvider {
    this.storageCredentialsProvider ??= new StorageCredentialsProvider(this.clients.auth, () =>
      this.auth.accessToken(),
    );
    return this.storageCredentialsProvider;
  }
}

/** Another process watches the folder already. */
export class WatchBusyError extends Error {
  override name = 'WatchBusyError';
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

function followPath(path: string): string {
  const trimmed = path.trim();
  return trimmed === '' || trimmed === '/' ? '' : canonicalPath(trimmed);
}

function accountInfo(session: StoredSession): AccountInfo {
  return {
    email: session.email,
    userId: session.userId,
    deviceId: session.deviceId,
    deviceName: session.deviceName,
    namespaceId: session.rootNamespaceId,
    server: session.server,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
