import { status } from '@grpc/grpc-js';
import type { auth } from '@filesync/contracts';
import {
  CALL_TIMEOUT_MS,
  callError,
  connectStubs,
  signUp,
  statusOf,
  type Stubs,
  TEST_PASSWORD,
  trailer,
  unary,
  uniqueEmail,
} from '@filesync/test-support';
import { readTestStack } from './support/harness';
import { alteredToken } from './support/tokens';

// Real services and emulators: calls take seconds, not the unit tier's milliseconds.

const stack = readTestStack();

describe('tokens and logins, through the stubs', () => {
  let stubs: Stubs;
  beforeAll(() => {
    stubs = connectStubs(stack);
  });
  afterAll(() => stubs?.close());

  const noToken = { timeoutMs: CALL_TIMEOUT_MS };
  const as = (accessToken: string) => ({ timeoutMs: CALL_TIMEOUT_MS, accessToken });

  /** One authenticated call per service, answered OK for a valid token. */
  const callEachService = (session: auth.Session, accessToken: string) =>
    ({
      auth: () => unary(stubs.auth.listDevices.bind(stubs.auth), {}, as(accessToken)),
      metadata: () =>
        unary(
          stubs.metadata.listChanges.bind(stubs.metadata),
          { namespaceId: session.rootNamespaceId, afterCursor: 0, limit: 1 },
          as(accessToken),
        ),
      'sync-diff': () =>
        unary(
          stubs.syncDiff.findMissingBlocks.bind(stubs.syncDiff),
          { namespaceId: session.rootNamespaceId, blockHashes: [] },
          as(accessToken),
        ),
      notifier: () =>
        unary(stubs.notifier.listDeliveries.bind(stubs.notifier), { limit: 1 }, as(accessToken)),
    }) as const;

  async function statusesEverywhere(session: auth.Session, accessToken: string) {
    const calls = callEachService(session, accessToken);
    const entries = await Promise.all(
      Object.entries(calls).map(async ([service, call]) => [service, await statusOf(call)] as const),
    );
    return Object.fromEntries(entries);
  }

  const everywhere = (code: string) => ({ auth: code, metadata: code, 'sync-diff': code, notifier: code });

  test('the control: a real token is accepted by every service', async () => {
    const session = await signUp(stubs, 'control');
    expect(await statusesEverywhere(session, session.accessToken)).toEqual(everywhere('OK'));
  });

  test('kind 11: a token with an unknown key id is UNAUTHENTICATED in every service, never INTERNAL', async () => {
    const session = await signUp(stubs, 'kid');
    const token = await alteredToken(session.accessToken, stack.signingKeyFile, { keyId: 'no-such-key' });
    expect(await statusesEverywhere(session, token)).toEqual(everywhere('UNAUTHENTICATED'));
  });

  test.each(['exp', 'iat'] as const)(
    'kind 14: a token signed by auth but without %s is UNAUTHENTICATED in every service',
    async (claim) => {
      const session = await signUp(stubs, `no-${claim}`);
      const token = await alteredToken(session.accessToken, stack.signingKeyFile, { drop: claim });
      expect(await statusesEverywhere(session, token)).toEqual(everywhere('UNAUTHENTICATED'));
    },
  );

  test('kind 14: a logged-out device loses storage credentials at once and every service within seconds', async () => {
    const first = await signUp(stubs, 'logout');
    const second = (
      await unary(
        stubs.auth.login.bind(stubs.auth),
        { email: first.email, password: TEST_PASSWORD, deviceName: 'second' },
        noToken,
      )
    ).session!;
    expect(await statusesEverywhere(second, second.accessToken)).toEqual(everywhere('OK'));

    await unary(
      stubs.auth.logout.bind(stubs.auth),
      { refreshToken: second.refreshToken },
      as(second.accessToken),
    );
    const loggedOutAt = Date.now();
    expect(
      await statusOf(() =>
        unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, as(second.accessToken)),
      ),
    ).toBe('UNAUTHENTICATED');

    // The other services refresh their copy of the revoked list every 5 s: wait for that, not 15 min.
    let statuses = await statusesEverywhere(second, second.accessToken);
    while (JSON.stringify(statuses) !== JSON.stringify(everywhere('UNAUTHENTICATED'))) {
      if (Date.now() - loggedOutAt > 60_000) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
      statuses = await statusesEverywhere(second, second.accessToken);
    }
    expect(statuses).toEqual(everywhere('UNAUTHENTICATED'));
    // The device that stayed signed in is untouched.
    expect(await statusesEverywhere(first, first.accessToken)).toEqual(everywhere('OK'));
  });

  test("kind 14: Logout with another account's refresh token answers like an unknown token and ends nothing", async () => {
    const [alice, mallory] = await Promise.all([signUp(stubs, 'victim'), signUp(stubs, 'mallory')]);
    const logout = (refreshToken: string) =>
      statusOf(() => unary(stubs.auth.logout.bind(stubs.auth), { refreshToken }, as(mallory.accessToken)));
    const unknown = await logout('A'.repeat(43));
    expect(await logout(alice.refreshToken)).toBe(unknown);
    const refreshed = await unary(
      stubs.auth.refreshSession.bind(stubs.auth),
      { refreshToken: alice.refreshToken },
      noToken,
    );
    expect(refreshed.session?.userId).toBe(alice.userId);
  });

  test('kind 12: of a burst of wrong passwords only the free attempts are checked, and the right one then waits', async () => {
    const email = uniqueEmail('burst');
    await unary(
      stubs.auth.signUp.bind(stubs.auth),
      { email, password: TEST_PASSWORD, deviceName: 'x' },
      noToken,
    );
    const login = (password: string) =>
      unary(stubs.auth.login.bind(stubs.auth), { email, password, deviceName: 'guess' }, noToken);

    // 36 wrong guesses at once: each is counted before its password is checked.
    const wave = await Promise.all(
      Array.from({ length: 36 }, (_, index) => statusOf(() => login(`wrong ${index}!`))),
    );
    const checked = wave.filter((code) => code === 'UNAUTHENTICATED').length;
    expect(checked).toBeGreaterThan(0);
    expect(checked).toBeLessThanOrEqual(5);
    expect(wave.filter((code) => code === 'RESOURCE_EXHAUSTED')).toHaveLength(36 - checked);

    // Guesses 37 to 40, the right password first: throttled like the others.
    const [right, ...rest] = await Promise.all(
      [TEST_PASSWORD, 'wrong 38!', 'wrong 39!', 'wrong 40!'].map((password) => callError(login(password))),
    );
    expect(right?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(Number(trailer(right!, 'filesync-retry-after-ms'))).toBeGreaterThan(0);
    expect(rest.map((error) => error.code)).toEqual([
      status.RESOURCE_EXHAUSTED,
      status.RESOURCE_EXHAUSTED,
      status.RESOURCE_EXHAUSTED,
    ]);
  });

  test("kind 12: a flood of logins for made-up emails does not refuse or queue a real user's login", async () => {
    const real = await signUp(stubs, 'flooded');
    const login = (email: string, password: string) =>
      unary(stubs.auth.login.bind(stubs.auth), { email, password, deviceName: 'flood' }, noToken);
    const flood = Array.from({ length: 60 }, () =>
      statusOf(() => login(uniqueEmail('nobody'), 'wrong password!')),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const session = (await login(real.email, TEST_PASSWORD)).session!;
    expect(session.userId).toBe(real.userId);
    // Made-up emails are answered like wrong passwords, none of them refused as "busy".
    expect(await Promise.all(flood)).toEqual(Array(60).fill('UNAUTHENTICATED'));
  });
});
