export {
  FilesyncClient,
  defaultHome,
  type AccountInfo,
  type ClientStatus,
  type FolderStatus,
  type ServerCheck,
  type WatchCallOptions,
  WatchBusyError,
  type OpenOptions,
  type SyncCallOptions,
} from './client';
export type { SyncSummary, SyncProgress, SyncPhase, SyncFailure, SkippedPath } from './sync/summary';
export { SyncIncompleteError, MassDeleteError } from './sync/summary';
export type { SyncOptions } from './sync/engine';
export { EXIT } from './cli/exit-codes';
export { NotSignedInError } from './session/authenticator';
export { LogoutNotSentError } from './session/errors';
export { serverAddresses, DEFAULT_SERVER, type ServerAddresses } from './config/server-addresses';
export type { FolderRecord, FolderState } from './state/state-db';
export { SyncBusyError } from './sync/sync-lock';
export { FolderBindingError, SyncFolderMissingError } from './sync/sync-root';
export { RemotePathError, RemoteRootUnsupportedError } from './sync/remote-binding';
export {
  FolderUnreadableError,
  nodeScanFileSystem,
  type ScanFileSystem,
  type ScanDirEntry,
} from './scan/scanner';
export type { RestoreReport, TrashItem, VersionInfo } from './trash/trash-client';
export type { WatchEvent, WatchTiming } from './watch/watch-folder';
export { DEFAULT_WATCH_TIMING } from './watch/watch-folder';
