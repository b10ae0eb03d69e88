import { ACCESS_TOKEN } from '@filesync/server-kit';
import { FakeClock, InMemoryRevocationStore } from '../testing/in-memory-stores';
import type { RevocationStore } from './ports';
import { CachedRevocationStore } from './revocation-list';

/** The in-memory store, counting queries and holding each until the test lets it answer. */
class CountingStore implements RevocationStore {
  readonly inner = new InMemoryRevocationStore();
  queries = 0;
  fail = false;
  private held: (() => void)[] = [];

  revokeDevice(deviceId: string, untilMs: number) {
    return this.inner.revokeDevice(deviceId, untilMs);
  }
  async revokedDevices(nowMs: number) {
    this.queries += 1;
    await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.fail) throw new Error('DynamoDB is throttling');
    return this.inner.revokedDevices(nowMs);
  }
  answer() {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

function setup() {
  const clock = new FakeClock();
  const store = new CountingStore();
  return { clock, store, list: new CachedRevocationStore(store, clock) };
}

describe('kind 14: the public revoked-devices list costs at most one query per second per process', () => {
  it('answers 200 concurrent calls with one query, then from memory until the list is a second old', async () => {
    const { clock, store, list } = setup();
    await store.revokeDevice('device-1', clock.now() + 60_000);
    const calls = Array.from({ length: 200 }, () => list.revokedDevices());
    store.answer();
    expect(await Promise.all(calls)).toEqual(Array(200).fill(['device-1']));
    expect(store.queries).toBe(1);

    clock.advance(ACCESS_TOKEN.revocationListMaxAgeMs - 1);
    await expect(list.revokedDevices()).resolves.toEqual(['device-1']);
    expect(store.queries).toBe(1);

    clock.advance(1);
    const renewed = list.revokedDevices();
    store.answer();
    await expect(renewed).resolves.toEqual(['device-1']);
    expect(store.queries).toBe(2);
  });

  it('keeps no failed query: the callers get the error, the next call queries again', async () => {
    const { store, list } = setup();
    store.fail = true;
    const calls = [list.revokedDevices(), list.revokedDevices()];
    store.answer();
    await Promise.all(calls.map((call) => expect(call).rejects.toThrow('DynamoDB is throttling')));
    store.fail = false;
    const retried = list.revokedDevices();
    store.answer();
    await expect(retried).resolves.toEqual([]);
    expect(store.queries).toBe(2);
  });

  it('shows a logout through this process at once, even over a query that began before it', async () => {
    const { clock, store, list } = setup();
    const before = list.revokedDevices();
    await list.revokeDevice('device-2', clock.now() + 60_000);
    const after = list.revokedDevices();
    store.answer();
    await before;
    // The call after the logout did not join the query begun before it.
    await expect(after).resolves.toEqual(['device-2']);
    expect(store.queries).toBe(2);
    await expect(list.revokedDevices()).resolves.toEqual(['device-2']);
    expect(store.queries).toBe(2);
  });
});
