import { mkdir, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { status } from '@grpc/grpc-js';
import { type common, grpcCode, unary } from '@filesync/contracts';
import { canonicalPath } from '@filesync/sync-core';
import { DEFAULT_SERVER, serverAddresses } from './config/server-addresses';
import { createServiceClients, TIMEOUTS, type ServiceClients } from './grpc/clients';
import type { Hasher } from './hashing/hash-file';
import { WorkerHasher } from './hashing/worker-hasher';
import type { ScanFileSystem } from './scan/scanner';
import { Authenticator } from './session/authenticator';
import { SessionStore, type StoredSession } from './session/session-store';
import { StateDb, type FolderState } from './state/state-db';
import { S3BlockStore } from './storage/block-store';
import { StorageCredentialsProvider } from './storage/storage-credentials';
import { syncFolder, type SyncOptions } from './sync/engine';
import { GrpcSyncRemote } from './sync/remote';
import { acquireSyncLock } from './sync/sync-lock';
import { BoundRemote, parseRemotePath, pathRoom } from './sync/remote-binding';
import { bindSyncRoot, forgetSyncRoot, moveSyncRoot, openSyncRoot } from './sync/sync-root';
import { TrashClient, type RestoreReport, type TrashItem, type VersionInfo } from './trash/trash-client';
import type { SyncSummary } from './sync/summary';

export interface OpenOptions {
  /** Where session.json and state.db live; default FILESYNC_HOME or ~/.filesync. */
  readonly home?: string;
  /** `host[:basePort]` of the deployment; default: FILESYNC_SERVER, the signed-in server, then the local stack. */
  readonly server?: string;
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

export interface ClientStatus extends AccountInfo {
  readonly home: string;
  readonly accessTokenExpiresAtMs: number;
  readonly refreshTokenExpiresAtMs: number;
  readonly syncedFolders: FolderState[];
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
    private readonly clients: ServiceClients,
    private readonly auth: Authenticator,
    private readonly state: StateDb,
    private readonly logger: Logger,
    private readonly scanFileSystem: ScanFileSystem | undefined,
  ) {}

  static async open(options: OpenOptions = {}): Promise<FilesyncClient> {
    const home = resolve(options.home ?? defaultHome());
    await mkdir(home, { recursive: true, mode: 0o700 });
    const store = new SessionStore(home);
    const stored = await store.load();
    // An explicit choice wins over the server the session was created with.
    const addresses = serverAddresses(
      options.server ?? (process.env.FILESYNC_SERVER || undefined) ?? stored?.server ?? DEFAULT_SERVER,
    );
    const clients = createServiceClients(addresses);
    const auth = new Authenticator(store, clients.auth, addresses.server);
    await auth.load();
    const logger =
      options.logger ??
      pino({ name: 'filesync', level: process.env.FILESYNC_LOG_LEVEL || 'warn' }, pino.destination(2));
    return new FilesyncClient(
      home,
      addresses.server,
      clients,
      auth,
      StateDb.open(join(home, 'state.db')),
      logger,
      options.scanFileSystem,
    );
  }

  async signup(email: string, password: string, deviceName?: string): Promise<AccountInfo> {
    return accountInfo(await this.auth.signUp(email, password, deviceName));
  }

  async login(email: string, password: string, deviceName?: string): Promise<AccountInfo> {
    return accountInfo(await this.auth.login(email, password, deviceName));
  }

  /** One two-way sync pass of `dir` with its remote path of the account's root namespace. */
  async sync(dir: string, options: SyncCallOptions = {}): Promise<SyncSummary> {
    const session = this.auth.requireSession();
    const wanted = options.remote === undefined ? undefined : parseRemotePath(options.remote);
    const release = await acquireSyncLock(this.home);
    try {
      if (options.movedFrom !== undefined) await moveSyncRoot(options.movedFrom, dir, this.state);
      const root = await openSyncRoot(dir, this.state, { create: options.create });
      const namespaceId = session.rootNamespaceId;
      const remotePath = bindSyncRoot(root, this.state, { namespaceId, remotePath: wanted });
      this.hasher ??= new WorkerHasher(2);
      this.blocks ??= new S3BlockStore(() => this.storageCredentials.get());
      return await syncFolder(
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
        },
      );
    } finally {
      await release();
    }
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

  async status(): Promise<ClientStatus> {
    const session = this.auth.requireSession();
    return {
      ...accountInfo(session),
      home: this.home,
      accessTokenExpiresAtMs: session.accessTokenExpiresAtMs,
      refreshTokenExpiresAtMs: session.refreshTokenExpiresAtMs,
      syncedFolders: this.state.folders(),
    };
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
