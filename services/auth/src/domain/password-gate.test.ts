import { PasswordGate } from './password-gate';

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
