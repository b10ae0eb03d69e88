import { backoffMs } from './clock';
import { PassScheduler, type PassOutcome, type PassRequest } from './pass-scheduler';
import { FakeClock, settle } from './testing/fake-clock';

const TIMING = { debounceMs: 50, maxDelayMs: 1_000, retry: { baseMs: 1_000, maxMs: 60_000 } };

/** A scheduler whose passes the test finishes by hand. */
function harness() {
  const clock = new FakeClock();
  const runs: { request: PassRequest; startedMs: number; finish: (outcome: PassOutcome) => void }[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const scheduler = new PassScheduler(
    (request) =>
      new Promise<PassOutcome>((resolve) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        runs.push({
          request,
          startedMs: clock.now(),
          finish: (outcome) => {
            running -= 1;
            resolve(outcome);
          },
        });
      }),
    { ...TIMING, clock },
  );
  return { clock, scheduler, runs, mostAtOnce: () => mostAtOnce };
}

describe('PassScheduler', () => {
  it('debounces local events: one pass after a quiet window, naming every path', async () => {
    const { clock, scheduler, runs } = harness();
    const start = clock.now();
    scheduler.local('a.txt');
    await clock.advance(30);
    scheduler.local('b.txt');
    await clock.advance(30);
    expect(runs).toHaveLength(0);
    await clock.advance(30);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.startedMs - start).toBe(80);
    expect([...runs[0]!.request.localPaths]).toEqual(['a.txt', 'b.txt']);
    expect(runs[0]!.request.full).toBe(false);
  });

  it('runs a constant writer within the longest delay', async () => {
    const { clock, scheduler, runs } = harness();
    const start = clock.now();
    for (let i = 0; i < 60 && runs.length === 0; i++) {
      scheduler.local('log.txt');
      await clock.advance(20);
    }
    expect(runs).toHaveLength(1);
    expect(runs[0]!.startedMs - start).toBe(TIMING.maxDelayMs);
  });

  it('runs server announcements and rescans at once', async () => {
    const { clock, scheduler, runs } = harness();
    scheduler.remote(7);
    await clock.advance(0);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.request.remoteCursor).toBe(7);
    runs[0]!.finish('ok');
    await settle();
    scheduler.rescan();
    await clock.advance(0);
    expect(runs).toHaveLength(2);
    expect(runs[1]!.request.full).toBe(true);
  });

  it('never runs two passes at once: what arrives during one makes one more', async () => {
    const { clock, scheduler, runs, mostAtOnce } = harness();
    scheduler.remote(1);
    await clock.advance(0);
    expect(runs).toHaveLength(1);
    scheduler.local('x');
    scheduler.remote(2);
    scheduler.remote(3);
    scheduler.local('y');
    await clock.advance(5_000);
    expect(runs).toHaveLength(1);
    runs[0]!.finish('ok');
    await clock.advance(0);
    expect(runs).toHaveLength(2);
    expect(runs[1]!.request.remoteCursor).toBe(3);
    expect([...runs[1]!.request.localPaths].sort()).toEqual(['x', 'y']);
    runs[1]!.finish('ok');
    await clock.advance(5_000);
    expect(runs).toHaveLength(2);
    expect(mostAtOnce()).toBe(1);
  });

  it('retries a failed pass with growing backoff and jitter, keeping its request, and resets after success', async () => {
    const { clock, scheduler, runs } = harness();
    scheduler.local('a');
    await clock.advance(50);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const failedAt = clock.now();
      runs.at(-1)!.finish('retry');
      await settle();
      // A new event does not cut the backoff short.
      scheduler.local('b');
      const before = runs.length;
      while (runs.length === before) await clock.advance(100);
      delays.push(runs.at(-1)!.startedMs - failedAt);
      expect([...runs.at(-1)!.request.localPaths].sort()).toEqual(['a', 'b']);
      expect(runs.at(-1)!.request.reasons.has('retry')).toBe(true);
    }
    const expected = [1, 2, 3, 4].map((attempt) => backoffMs(attempt, TIMING.retry, () => 0.5));
    delays.forEach((delay, index) => expect(Math.abs(delay - expected[index]!)).toBeLessThanOrEqual(100));
    expect(delays[3]).toBeGreaterThan(delays[0]! * 4);
    runs.at(-1)!.finish('ok');
    await settle();
    scheduler.remote(9);
    await clock.advance(0);
    expect(runs.at(-1)!.request.remoteCursor).toBe(9);
  });

  it('stops: no pass after stop(), which waits for the running one', async () => {
    const { clock, scheduler, runs } = harness();
    scheduler.remote(1);
    await clock.advance(0);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    scheduler.local('late');
    await clock.advance(5_000);
    expect(stopped).toBe(false);
    runs[0]!.finish('ok');
    await stopping;
    await clock.advance(5_000);
    expect(runs).toHaveLength(1);
    await expect(scheduler.done).resolves.toBeUndefined();
  });

  it('ends when a pass says stop, or rejects done when one throws', async () => {
    const { clock, scheduler, runs } = harness();
    scheduler.kick('start');
    await clock.advance(0);
    runs[0]!.finish('stop');
    await expect(scheduler.done).resolves.toBeUndefined();
    scheduler.remote(5);
    await clock.advance(1_000);
    expect(runs).toHaveLength(1);

    const clock2 = new FakeClock();
    const failing = new PassScheduler(() => Promise.reject(new Error('bug')), { ...TIMING, clock: clock2 });
    failing.kick('start');
    await clock2.advance(0);
    await expect(failing.done).rejects.toThrow('bug');
  });
});

describe('backoffMs', () => {
  it('doubles up to the cap, jittered within the upper half', () => {
    const policy = { baseMs: 500, maxMs: 30_000 };
    expect(backoffMs(1, policy, () => 0)).toBe(250);
    expect(backoffMs(1, policy, () => 0.999999)).toBe(500);
    expect(backoffMs(3, policy, () => 0)).toBe(1_000);
    expect(backoffMs(50, policy, () => 0)).toBe(15_000);
    expect(backoffMs(50, policy, () => 0.999999)).toBe(30_000);
  });
});
