import type { PasswordHasher } from './passwords';
import { gatedHasher, PasswordGate, signUpLimits, UnknownEmailDelay } from './password-gate';

/** A unit of work the test finishes by hand. */
function pending() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { done, finish };
}

describe('kind 12: a global cap on password checks keeps auth responsive under a flood', () => {
  it('runs at most maxConcurrent at once, queues maxQueued, refuses the rest with a retry hint', async () => {
    const gate = new PasswordGate({ maxConcurrent: 2, maxQueued: 3 });
    const works = Array.from({ length: 5 }, () => pending());
    const started: number[] = [];
    const runs = works.map((work, index) =>
      gate.run(async () => {
        started.push(index);
        await work.done;
        return index;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(gate.load()).toEqual({ running: 2, waiting: 3 });

    const refused = gate.run(async () => 'never');
    await expect(refused).rejects.toMatchObject({
      kind: 'resource-exhausted',
      message: expect.stringMatching(/busy checking passwords: retry in \d+ ms/),
      details: { 'retry-after-ms': expect.stringMatching(/^\d+$/) },
    });

    works[0]!.finish();
    await runs[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const work of works) work.finish();
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2, 3, 4]);
    expect(gate.load()).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot of a run that fails', async () => {
    const gate = new PasswordGate({ maxConcurrent: 1, maxQueued: 0 });
    await expect(gate.run(async () => Promise.reject(new Error('argon2 broke')))).rejects.toThrow(
      'argon2 broke',
    );
    await expect(gate.run(async () => 'ok')).resolves.toBe('ok');
  });

  it('lets a real login through promptly while a flood is refused', async () => {
    const gate = new PasswordGate({ maxConcurrent: 2, maxQueued: 2 });
    const flood = Array.from({ length: 50 }, () => pending());
    const floodRuns = flood.map((work) =>
      gate
        .run(() => work.done)
        .then(
          () => 'done',
          () => 'refused',
        ),
    );
    // Two run, two wait, 46 are refused at once instead of piling up.
    // (If they queued instead, this would wait for the flood and the test would time out.)
    expect(await Promise.all(floodRuns.slice(4))).toEqual(Array(46).fill('refused'));
    for (const work of flood) work.finish();
    await Promise.all(floodRuns);
    // Once the running ones finish, a real user's check gets a slot at once.
    await expect(gate.run(async () => 'alice in')).resolves.toBe('alice in');
  });
});

describe("kind 12: logins of unknown emails take a real check's time without hashing", () => {
  it('waits a delay drawn from the recent real verifications', async () => {
    const slept: number[] = [];
    let draw = 0;
    const delay = new UnknownEmailDelay(
      { maxPending: 10 },
      async (ms) => slept.push(ms),
      () => [0, 0.5, 0.99][draw++ % 3]!,
    );
    for (const ms of [40, 80, 120]) delay.record(ms);
    for (let i = 0; i < 3; i++) await delay.wait();
    expect(slept).toEqual([40, 80, 120]);
  });

  it('times each real verify, queue wait included, for that delay', async () => {
    let now = 0;
    const gate = new PasswordGate({ maxConcurrent: 1, maxQueued: 1 });
    const unknownEmails = new UnknownEmailDelay({ maxPending: 10 }, async () => undefined);
    const record = jest.spyOn(unknownEmails, 'record');
    const inner: PasswordHasher = {
      hash: async () => 'hash',
      verify: async () => ((now += 70), true),
      verifyDummy: () => Promise.reject(new Error('an unknown email must not hash')),
    };
    const hasher = gatedHasher(inner, { gate, signUps: gate, unknownEmails }, () => now);
    await hasher.verify('hash', 'password');
    await hasher.verifyDummy('password');
    expect(record.mock.calls).toEqual([[70]]);
  });

  it('holds at most maxPending unknown-email logins; beyond, the busy answer a real check gets', async () => {
    const held = pending();
    const delay = new UnknownEmailDelay({ maxPending: 3 }, () => held.done);
    const waits = Array.from({ length: 3 }, () => delay.wait());
    expect(delay.load()).toEqual({ pending: 3 });
    await expect(delay.wait()).rejects.toMatchObject({
      kind: 'resource-exhausted',
      message: expect.stringMatching(/busy checking passwords: retry in \d+ ms/),
    });
    held.finish();
    await Promise.all(waits);
    expect(delay.load()).toEqual({ pending: 0 });
  });

  it('refuses an unknown email exactly when the gate would refuse a real check', async () => {
    const gate = new PasswordGate({ maxConcurrent: 1, maxQueued: 0 });
    const unknownEmails = new UnknownEmailDelay({ maxPending: 10 }, async () => undefined);
    const held = pending();
    const inner: PasswordHasher = {
      hash: async () => 'hash',
      verify: async () => (await held.done, false),
      verifyDummy: () => Promise.reject(new Error('an unknown email must not hash')),
    };
    const hasher = gatedHasher(inner, { gate, signUps: gate, unknownEmails });
    const real = hasher.verify('hash', 'password');
    const busy = { kind: 'resource-exhausted', message: expect.stringMatching(/busy checking passwords/) };
    await expect(hasher.verify('hash', 'password')).rejects.toMatchObject(busy);
    await expect(hasher.verifyDummy('password')).rejects.toMatchObject(busy);
    held.finish();
    await real;
    await expect(hasher.verifyDummy('password')).resolves.toBeUndefined();
  });

  it('lets sign-ups hold half the gate, at least one slot', () => {
    expect(signUpLimits({ maxConcurrent: 4, maxQueued: 16 })).toEqual({ maxConcurrent: 2, maxQueued: 16 });
    expect(signUpLimits({ maxConcurrent: 1, maxQueued: 0 })).toEqual({ maxConcurrent: 1, maxQueued: 0 });
  });
});
