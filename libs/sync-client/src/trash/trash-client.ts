import { metadata, unary, type common } from '@filesync/contracts';
import { TIMEOUTS, type ServiceClients } from '../grpc/clients';

/**
 * Issue 8: the trash, restores and version history as the CLI shows them. Nothing is uploaded: the
 * server commits versions whose blocks it holds. Device ids are resolved to the names the
 * account's devices were given (auth ListDevices).
 */

/** A deleted file that can still be restored. */
export interface TrashItem {
  readonly path: string;
  /** Version of the deletion (its tombstone). */
  readonly version: number;
  readonly deletedAtMs: number;
  readonly deviceId: string;
  /** Name of the device that deleted it (its id's start when the account has no such device). */
  readonly deviceName: string;
  /** After this (Unix ms) it can no longer be restored. */
  readonly expiresAtMs: number;
  /** Bytes of the version a restore brings back. */
  readonly size: number;
}

/** One version of a file, with who made it and until when it is kept. */
export interface VersionInfo extends common.FileEntry {
  readonly deviceName: string;
  /** When the version stops being restorable (Unix ms); 0 for the current version, kept for good. */
  readonly expiresAtMs: number;
}

export type RestoreRefusalReason =
  'not-in-trash' | 'live' | 'expired' | 'path-clash' | 'conflict' | 'unknown';

export interface RestoreReport {
  /** Files brought back: each a new version `version` holding the content of `fromVersion`. */
  readonly restored: { path: string; fromVersion: number; version: number }[];
  /** Paths left as they were, and why. */
  readonly refused: { path: string; fromVersion: number; reason: RestoreRefusalReason; message: string }[];
}

const REASONS: Record<metadata.RestoreRefusalReason, RestoreRefusalReason> = {
  [metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_NOT_IN_TRASH]: 'not-in-trash',
  [metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_LIVE]: 'live',
  [metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_EXPIRED]: 'expired',
  [metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_PATH_CLASH]: 'path-clash',
  [metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_CONFLICT]: 'conflict',
  [metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_UNSPECIFIED]: 'unknown',
  [metadata.RestoreRefusalReason.UNRECOGNIZED]: 'unknown',
};

/** How a device id reads when the account lists no device of that id. */
export const unknownDeviceName = (deviceId: string) => `device ${deviceId.slice(0, 8)}`;

/** The trash, restore and version calls of one signed-in device. */
export class TrashClient {
  constructor(
    private readonly clients: ServiceClients,
    private readonly accessToken: () => Promise<string>,
    private readonly namespaceId: string,
  ) {}

  /** Every deleted file at or below `prefix` ('' = all) that can still be restored, by path. */
  async list(prefix: string): Promise<TrashItem[]> {
    const entries: metadata.TrashEntry[] = [];
    let pageToken = '';
    do {
      const page = await unary(
        this.clients.metadata.listTrash.bind(this.clients.metadata),
        { namespaceId: this.namespaceId, pathPrefix: prefix, limit: 1000, pageToken },
        await this.settings(),
      );
      entries.push(...page.entries);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    const names = await this.deviceNames();
    return entries.map((entry) => ({
      path: entry.path,
      version: entry.version,
      deletedAtMs: entry.deletedAtMs,
      deviceId: entry.deviceId,
      deviceName: names.get(entry.deviceId) ?? unknownDeviceName(entry.deviceId),
      expiresAtMs: entry.expiresAtMs,
      size: entry.size,
    }));
  }

  /** Restores the deleted file at `path`, or every deleted file below it, call after call. */
  async restore(path: string): Promise<RestoreReport> {
    const report: RestoreReport = { restored: [], refused: [] };
    let pageToken = '';
    do {
      const response = await unary(
        this.clients.metadata.restoreFiles.bind(this.clients.metadata),
        { namespaceId: this.namespaceId, paths: [path], pageToken },
        { ...(await this.settings()), timeoutMs: TIMEOUTS.commitMs },
      );
      for (const result of response.results) {
        const outcome = result.outcome;
        if (outcome?.$case === 'restored') {
          report.restored.push({
            path: result.path,
            fromVersion: result.fromVersion,
            version: outcome.value.version,
          });
        } else {
          report.refused.push({
            path: result.path,
            fromVersion: result.fromVersion,
            reason: outcome ? REASONS[outcome.value.reason] : 'unknown',
            message: outcome?.value.message ?? 'no outcome',
          });
        }
      }
      pageToken = response.nextPageToken;
    } while (pageToken !== '');
    return report;
  }

  /** Commits `version` of `path` as a new version on top of the current one. */
  async restoreVersion(path: string, version: number): Promise<RestoreReport> {
    const { entry } = await unary(
      this.clients.metadata.restoreVersion.bind(this.clients.metadata),
      { namespaceId: this.namespaceId, path, version, baseVersion: 0 },
      { ...(await this.settings()), timeoutMs: TIMEOUTS.commitMs },
    );
    return { restored: [{ path, fromVersion: version, version: entry?.version ?? 0 }], refused: [] };
  }

  /** Every retained version of `path`, newest first, with device names and expiry. */
  async versions(path: string): Promise<VersionInfo[]> {
    const response = await unary(
      this.clients.metadata.listVersions.bind(this.clients.metadata),
      { namespaceId: this.namespaceId, path },
      await this.settings(),
    );
    const names = await this.deviceNames();
    return response.versions.map((version, index) => ({
      ...version,
      deviceName: names.get(version.deviceId) ?? unknownDeviceName(version.deviceId),
      expiresAtMs: response.expiresAtMs[index] ?? 0,
    }));
  }

  /** The account's devices: id → name. */
  private async deviceNames(): Promise<Map<string, string>> {
    const { devices } = await unary(
      this.clients.auth.listDevices.bind(this.clients.auth),
      {},
      await this.settings(),
    );
    return new Map(devices.map((device) => [device.deviceId, device.name]));
  }

  private async settings() {
    return { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.accessToken() };
  }
}
