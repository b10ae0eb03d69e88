// Runs the account domain over in-memory fakes of the stores (see testing/in-memory-stores.ts)
// with real, cheaply parameterised argon2id.
import { DomainError } from '@filesync/server-kit';
import { ACCESS_TTL_SECONDS, createTestDomain, testPasswords } from '../testing/test-domain';
import { LOGIN_THROTTLE } from './login-throttle';
import { gatedHasher, PasswordGate, signUpLimits, UnknownEmailDelay } from './password-gate';

const alice = { email: 'alice@example.com', password: 'correct horse battery', deviceName: 'laptop' };

describe('Accounts', () => {
  it('signs up: argon2id hash stored, root namespace and first device created, session issued', async () => {
    const { accounts, accountStore, verifier } = await createTestDomain();
    const session = await accounts.signUp(alice);
    const stored = accountStore.accounts.get(alice.email);
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(stored?.passwordHash).not.toContain(alice.password);
    expect(session).toMatchObject({
      email: alice.email,
      userId: stored?.userId,
      rootNamespaceId: stored?.rootNamespaceId,
    });
    expect(session.deviceId).toMatch(/^[0-9a-f-]{36}$/);
    const principal = await verifier.verify(session.accessToken);
    expect(principal.namespaceIds).toEqual([stored?.rootNamespaceId]);
    const devices = await accounts.devices(principal);
    expect(devices).toEqual([expect.objectContaining({ deviceId: session.deviceId, name: 'laptop' })]);
  });

  it('refuses a second account for the same email', async () => {
    const { accounts } = await createTestDomain();
    await accounts.signUp(alice);
    await expect(accounts.signUp({ ...alice, password: 'another password' })).rejects.toMatchObject({
      kind: 'already-exists',
    });
  });

  it('logs in as a new device; devices are listed oldest first', async () => {
    const { accounts, clock, verifier } = await createTestDomain();
    const first = await accounts.signUp(alice);
    clock.advance(1000);
    const second = await accounts.login({ ...alice, deviceName: 'desktop' });
    expect(second.userId).toBe(first.userId);
    expect(second.deviceId).not.toBe(first.deviceId);
    const devices = await accounts.devices(await verifier.verify(second.accessToken));
    expect(devices.map((device) => device.name)).toEqual(['laptop', 'desktop']);
  });

  it('answers a wrong password and an unknown email alike, spending a hash verify on both', async () => {
    const passwords = testPasswords();
    const verifyDummy = jest.spyOn(passwords, 'verifyDummy');
    const { accounts } = await createTestDomain(passwords);
    await accounts.signUp(alice);
    const wrong = accounts.login({ ...alice, password: 'wrong password!' });
    const unknown = accounts.login({ ...alice, email: 'bob@example.com' });
    // Both expectations attach at once: a rejection left unobserved while awaiting the other
    // would surface as an unhandled rejection when the machine is slow.
    const answer = { kind: 'unauthenticated', message: 'email or password is wrong' };
    await Promise.all([
      expect(wrong).rejects.toMatchObject(answer),
      expect(unknown).rejects.toMatchObject(answer),
    ]);
    expect(verifyDummy).toHaveBeenCalledTimes(1);
  });

  it('slows down repeated attempts: RESOURCE_EXHAUSTED with the delay, doubling, reset by success', async () => {
    const { accounts, clock, loginAttempts } = await createTestDomain();
    await accounts.signUp(alice);
    const bad = { ...alice, password: 'wrong password!' };
    for (let i = 0; i < LOGIN_THROTTLE.freeFailures; i++) {
      await expect(accounts.login(bad)).rejects.toMatchObject({ kind: 'unauthenticated' });
    }
    // Even the right password waits: the check comes before any verify. The refused attempt
    // counts too, so the wait it announces is the one that holds afterwards.
    await expect(accounts.login(alice)).rejects.toMatchObject({
      kind: 'resource-exhausted',
      message: 'too many failed logins for this email: retry in 2 s',
      details: { 'retry-after-ms': '2000' },
    });
    clock.advance(2000);
    await expect(accounts.login(bad)).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(accounts.login(alice)).rejects.toMatchObject({ details: { 'retry-after-ms': '8000' } });
    clock.advance(8000);
    await expect(accounts.login(alice)).resolves.toMatchObject({ email: alice.email });
    expect(loginAttempts.failures.has(alice.email)).toBe(false);
  });

  describe('kind 12: login throttling holds under concurrency', () => {
    it('checks only the free attempts of a burst of 40, and the right password 37th does not get in', async () => {
      const passwords = testPasswords();
      const verify = jest.spyOn(passwords, 'verify');
      const { accounts } = await createTestDomain(passwords);
      await accounts.signUp(alice);
      const burst = Array.from({ length: 40 }, (_, index) =>
        accounts.login(index === 36 ? alice : { ...alice, password: `wrong password ${index}` }),
      );
      const outcomes = await Promise.allSettled(burst);
      const kinds = outcomes.map((outcome) =>
        outcome.status === 'fulfilled' ? 'ok' : (outcome.reason as { kind: string }).kind,
      );
      expect(verify).toHaveBeenCalledTimes(LOGIN_THROTTLE.freeFailures);
      expect(kinds.filter((kind) => kind === 'unauthenticated')).toHaveLength(LOGIN_THROTTLE.freeFailures);
      expect(kinds.filter((kind) => kind === 'resource-exhausted')).toHaveLength(
        40 - LOGIN_THROTTLE.freeFailures,
      );
      expect(kinds[36]).toBe('resource-exhausted');
    });

    it('gives the attempt back when the global password-check cap refused it unchecked', async () => {
      const passwords = testPasswords();
      const { accounts, loginAttempts } = await createTestDomain(passwords);
      await accounts.signUp(alice);
      passwords.verify = async () => {
        throw new DomainError('resource-exhausted', 'the server is busy checking passwords: retry in 100 ms');
      };
      for (let i = 0; i < 20; i++) {
        await expect(accounts.login(alice)).rejects.toMatchObject({ message: /busy checking passwords/ });
      }
      expect(loginAttempts.failures.get(alice.email)?.count).toBe(0);
    });

    it('reserves before the password is checked: a slow check cannot let a second wave in', async () => {
      const passwords = testPasswords();
      let checks = 0;
      const slowVerify = passwords.verify.bind(passwords);
      passwords.verify = async (hash, password) => {
        checks += 1;
        await new Promise((resolve) => setImmediate(resolve));
        return slowVerify(hash, password);
      };
      const { accounts } = await createTestDomain(passwords);
      await accounts.signUp(alice);
      const bad = { ...alice, password: 'wrong password!' };
      await Promise.allSettled(Array.from({ length: 25 }, () => accounts.login(bad)));
      await Promise.allSettled(Array.from({ length: 25 }, () => accounts.login(bad)));
      expect(checks).toBe(LOGIN_THROTTLE.freeFailures);
    });
  });

  describe('kind 12: rotating made-up emails cannot saturate auth', () => {
    /** The server's wiring over cheap argon2, with unknown-email delays held until `release`. */
    async function gatedDomain(limits = { maxConcurrent: 2, maxQueued: 2 }) {
      const inner = testPasswords();
      const hashed = { verify: jest.spyOn(inner, 'verify'), dummy: jest.spyOn(inner, 'verifyDummy') };
      let hashesHeld = Promise.resolve();
      const hash = inner.hash.bind(inner);
      inner.hash = async (password) => (await hashesHeld, hash(password));
      const holdHashes = () => {
        let finish!: () => void;
        hashesHeld = new Promise<void>((resolve) => (finish = resolve));
        return finish;
      };
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const gate = new PasswordGate(limits);
      const signUps = new PasswordGate(signUpLimits(limits));
      const unknownEmails = new UnknownEmailDelay({ maxPending: 1000 }, () => held);
      const passwords = gatedHasher(inner, { gate, signUps, unknownEmails });
      return {
        ...(await createTestDomain(passwords)),
        gate,
        signUps,
        unknownEmails,
        hashed,
        release,
        holdHashes,
      };
    }

    async function eventually(condition: () => boolean): Promise<void> {
      while (!condition()) await new Promise((resolve) => setImmediate(resolve));
    }

    it("a real user's login succeeds while 60 logins of unknown emails are pending, none of which hashes", async () => {
      const { accounts, gate, unknownEmails, hashed, release } = await gatedDomain();
      await accounts.signUp(alice);
      const flood = Array.from({ length: 60 }, (_, index) =>
        accounts
          .login({ email: `nobody-${index}@example.com`, password: 'wrong password!', deviceName: 'bot' })
          .then(
            () => 'in',
            (error: { kind: string }) => error.kind,
          ),
      );
      await eventually(() => unknownEmails.load().pending === 60);
      expect(gate.load()).toEqual({ running: 0, waiting: 0 });

      await expect(accounts.login(alice)).resolves.toMatchObject({ email: alice.email });
      release();
      // They still get the wrong-credentials answer, only after a real check's time.
      expect(await Promise.all(flood)).toEqual(Array(60).fill('unauthenticated'));
      expect(hashed.dummy).not.toHaveBeenCalled();
      expect(hashed.verify).toHaveBeenCalledTimes(1);
    });

    it('refuses a throttled email before it waits or checks anything', async () => {
      const { accounts, unknownEmails, hashed, release } = await gatedDomain();
      release();
      const ghost = { ...alice, email: 'ghost@example.com' };
      for (let i = 0; i < LOGIN_THROTTLE.freeFailures; i++) {
        await expect(accounts.login(ghost)).rejects.toMatchObject({ kind: 'unauthenticated' });
      }
      const wait = jest.spyOn(unknownEmails, 'wait');
      await expect(accounts.login(ghost)).rejects.toMatchObject({ kind: 'resource-exhausted' });
      expect(wait).not.toHaveBeenCalled();
      expect(hashed.verify).not.toHaveBeenCalled();
    });

    it('a flood of sign-ups (each must hash) leaves a real login a slot', async () => {
      const { accounts, gate, signUps, release, holdHashes } = await gatedDomain({
        maxConcurrent: 2,
        maxQueued: 0,
      });
      release();
      await accounts.signUp(alice);
      const finishHashes = holdHashes();
      const flood = Array.from({ length: 20 }, (_, index) =>
        accounts.signUp({ ...alice, email: `new-${index}@example.com` }).then(
          () => 'ok',
          (error: { kind: string }) => error.kind,
        ),
      );
      await eventually(() => signUps.load().running === 1);
      expect(gate.load()).toEqual({ running: 1, waiting: 0 });

      await expect(accounts.login(alice)).resolves.toMatchObject({ email: alice.email });
      finishHashes();
      const kinds = await Promise.all(flood);
      expect(kinds.filter((kind) => kind === 'ok')).toHaveLength(1);
      expect(kinds.filter((kind) => kind === 'resource-exhausted')).toHaveLength(19);
    });
  });

  it('throttles unknown emails too, so throttling does not reveal accounts', async () => {
    const { accounts } = await createTestDomain();
    const ghost = { ...alice, email: 'ghost@example.com' };
    for (let i = 0; i < LOGIN_THROTTLE.freeFailures; i++) {
      await expect(accounts.login(ghost)).rejects.toMatchObject({ kind: 'unauthenticated' });
    }
    await expect(accounts.login(ghost)).rejects.toMatchObject({ kind: 'resource-exhausted' });
  });

  it('kind 14: logging out revokes the device at once for storage and on the published list', async () => {
    const { accounts, verifier, revocations, clock } = await createTestDomain();
    await accounts.signUp(alice);
    const second = await accounts.login({ ...alice, deviceName: 'desktop' });
    const caller = await verifier.verify(second.accessToken);
    await expect(accounts.requireLiveDevice(caller)).resolves.toBeUndefined();
    await accounts.logout(second.refreshToken, caller);
    await expect(accounts.requireLiveDevice(caller)).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(revocations.revokedDevices(clock.now())).resolves.toEqual([second.deviceId]);
    // Listed for as long as its last access token can live, then dropped.
    clock.advance((ACCESS_TTL_SECONDS + 6) * 1000);
    await expect(revocations.revokedDevices(clock.now())).resolves.toEqual([]);
  });

  it('logs out: the refresh chain is revoked and the device forgotten', async () => {
    const { accounts, sessions, verifier } = await createTestDomain();
    const first = await accounts.signUp(alice);
    const second = await accounts.login({ ...alice, deviceName: 'desktop' });
    const caller = await verifier.verify(second.accessToken);
    await accounts.logout(second.refreshToken, caller);
    await expect(sessions.refresh(second.refreshToken)).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(accounts.devices(caller)).resolves.toEqual([
      expect.objectContaining({ deviceId: first.deviceId }),
    ]);
    await expect(accounts.logout(second.refreshToken, caller)).resolves.toBeUndefined();
    await expect(sessions.refresh(first.refreshToken)).resolves.toBeDefined();
  });
});
