import { ACCESS_TOKEN } from '@filesync/server-kit';
import type { Clock, RevocationStore } from './ports';

/**
 * The revoked-devices list served from memory. ListRevokedDevices is public (the verifiers that
 * poll it have no token of their own), so a call must not cost a strongly consistent DynamoDB
 * query each: this process runs at most one query per maxAgeMs, callers arriving meanwhile share
 * the one in flight, and a failed query is not kept (the next call tries again). A Logout through
 * this process drops the copy at once; one through another auth process shows within maxAgeMs.
 */
export class CachedRevocationStore implements RevocationStore {
  private cached: { ids: readonly string[]; fetchedAtMs: number } | undefined;
  private inFlight: Promise<readonly string[]> | undefined;
  /** Bumped by each local revocation, so a query that started before it is not kept. */
  private generation = 0;

  constructor(
    private readonly store: RevocationStore,
    private readonly clock: Clock,
    private readonly maxAgeMs: number = ACCESS_TOKEN.revocationListMaxAgeMs,
  ) {}

  async revokeDevice(deviceId: string, untilMs: number): Promise<void> {
    await this.store.revokeDevice(deviceId, untilMs);
    this.generation += 1;
    this.cached = undefined;
    this.inFlight = undefined;
  }

  /** The list as of at most maxAgeMs ago; expired entries within that age may still show. */
  async revokedDevices(): Promise<string[]> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.fetchedAtMs < this.maxAgeMs) return [...this.cached.ids];
    this.inFlight ??= this.query(now);
    return [...(await this.inFlight)];
  }

  private query(startedAtMs: number): Promise<readonly string[]> {
    const generation = this.generation;
    const query: Promise<readonly string[]> = this.store
      .revokedDevices(startedAtMs)
      .then((ids) => {
        // Aged from the query's start: anything revoked before it began is in it.
        if (generation === this.generation) this.cached = { ids, fetchedAtMs: startedAtMs };
        return ids;
      })
      .finally(() => {
        if (this.inFlight === query) this.inFlight = undefined;
      });
    return query;
  }
}
