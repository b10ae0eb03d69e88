import { auth, unary } from '@filesync/contracts';
import { TIMEOUTS } from '../grpc/clients';

/** Credentials are renewed when less than this remains, so no transfer starts with dying keys. */
const RENEW_MARGIN_MS = 60_000;

export type StorageCredentials = auth.GetStorageCredentialsResponse;

/** Fetches S3 credentials from auth and keeps them fresh; concurrent callers share one fetch. */
export class StorageCredentialsProvider {
  private current: StorageCredentials | undefined;
  private pending: Promise<StorageCredentials> | undefined;

  constructor(
    private readonly client: auth.AuthServiceClient,
    private readonly accessToken: () => Promise<string>,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<StorageCredentials> {
    if (this.current && this.current.expiresAtMs - RENEW_MARGIN_MS > this.now()) return this.current;
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<StorageCredentials> {
    const credentials = await unary(
      this.client.getStorageCredentials.bind(this.client),
      {},
      { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.accessToken() },
    );
    this.current = credentials;
    return credentials;
  }
}
