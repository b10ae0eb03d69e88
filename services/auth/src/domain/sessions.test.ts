// Runs the session domain over in-memory fakes of the stores (see testing/in-memory-stores.ts).
import { createTestDomain, REFRESH_TTL_SECONDS } from '../testing/test-domain';
import { refreshTokenHash } from './sessions';

const profile = { userId: 'user-1', email: 'a@example.com', rootNamespaceId: 'ns-1', emailVerified: false };

async function signedIn() {
  const domain = await createTestDomain();
  domain.accountStore.accounts.set(profile.email, { ...profile, passwordHash: 'unused', createdAtMs: 0 });
  await domain.accountStore.addDevice({
    userId: profile.userId,
    deviceId: 'dev-1',
    name: 'laptop',
    createdAtMs: 0,
  });
  const session = await domain.sessions.start(profile, 'dev-1');
  return { ...domain, session };
}

describe('Sessions', () => {
  it('starts with an access token for the root namespace and a 32-byte refresh token', async () => {
    const { session, verifier, clock, tokens } = await signedIn();
    expect(session.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.refreshTokenExpiresAtMs).toBe(clock.now() + REFRESH_TTL_SECONDS * 1000);
    expect(session).toMatchObject({
      userId: 'user-1',
      deviceId: 'dev-1',
      rootNamespaceId: 'ns-1',
      email: 'a@example.com',
    });
    await expect(verifier.verify(session.accessToken)).resolves.toEqual({
      userId: 'user-1',
      deviceId: 'dev-1',
      email: 'a@example.com',
      emailVerified: false,
      namespaceIds: ['ns-1'],
    });
    // Stored by hash only.
    expect(tokens.tokens.has(session.refreshToken)).toBe(false);
    expect(tokens.tokens.get(refreshTokenHash(session.refreshToken))).toMatchObject({
      userId: 'user-1',
      deviceId: 'dev-1',
    });
  });

  it('rotates: a refresh issues a new token in the same family and marks the old one used', async () => {
    const { session, sessions, tokens, clock } = await signedIn();
    clock.advance(60_000);
    const next = await sessions.refresh(session.refreshToken);
    expect(next.refreshToken).not.toBe(session.refreshToken);
    expect(next.deviceId).toBe('dev-1');
    const old = tokens.tokens.get(refreshTokenHash(session.refreshToken));
    const fresh = tokens.tokens.get(refreshTokenHash(next.refreshToken));
    expect(old?.usedAtMs).toBe(clock.now());
    expect(fresh?.familyId).toBe(old?.familyId);
    const third = await sessions.refresh(next.refreshToken);
    expect(third.refreshToken).not.toBe(next.refreshToken);
  });

  it('a refresh records when the device was last seen; a device removed meanwhile is not brought back', async () => {
    const { session, sessions, accountStore, clock } = await signedIn();
    clock.advance(15 * 60_000);
    const next = await sessions.refresh(session.refreshToken);
    expect((await accountStore.listDevices('user-1'))[0]?.lastSeenAtMs).toBe(clock.now());
    await accountStore.removeDevice('user-1', 'dev-1');
    await accountStore.touchDevice('user-1', 'dev-1', clock.now());
    expect(await accountStore.listDevices('user-1')).toEqual([]);
    await expect(sessions.refresh(next.refreshToken)).rejects.toMatchObject({ kind: 'unauthenticated' });
  });

  it('refuses the refresh of a device removed from the account', async () => {
    const { session, sessions, accountStore } = await signedIn();
    await accountStore.removeDevice(profile.userId, 'dev-1');
    await expect(sessions.refresh(session.refreshToken)).rejects.toMatchObject({
      kind: 'unauthenticated',
      message: expect.stringMatching(/removed from the account: sign in again/),
    });
  });

  it('detects reuse: presenting a used token revokes the whole family', async () => {
    const { session, sessions } = await signedIn();
    const next = await sessions.refresh(session.refreshToken);
    await expect(sessions.refresh(session.refreshToken)).rejects.toMatchObject({
      kind: 'unauthenticated',
      message: expect.stringMatching(/already used/),
    });
    // The legitimate holder of the newest token is signed out too.
    await expect(sessions.refresh(next.refreshToken)).rejects.toMatchObject({ kind: 'unauthenticated' });
  });

  it('kind 14: reuse also lists the device as revoked, so its access tokens stop working too', async () => {
    const { session, sessions, revocations, clock } = await signedIn();
    await sessions.refresh(session.refreshToken);
    await expect(sessions.refresh(session.refreshToken)).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(revocations.revokedDevices(clock.now())).resolves.toEqual(['dev-1']);
  });

  it('treats losing a concurrent rotation as reuse', async () => {
    const { session, sessions } = await signedIn();
    const results = await Promise.allSettled([
      sessions.refresh(session.refreshToken),
      sessions.refresh(session.refreshToken),
    ]);
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(1);
    const winner = results.find((result) => result.status === 'fulfilled');
    await expect(sessions.refresh(winner!.value.refreshToken)).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
  });

  it('rejects expired, unknown and malformed refresh tokens', async () => {
    const { session, sessions, clock } = await signedIn();
    await expect(sessions.refresh('A'.repeat(43))).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(sessions.refresh('not a token')).rejects.toMatchObject({ kind: 'unauthenticated' });
    clock.advance(REFRESH_TTL_SECONDS * 1000);
    await expect(sessions.refresh(session.refreshToken)).rejects.toMatchObject({ kind: 'unauthenticated' });
  });

  it('ends a session by revoking its family; ending it again is a no-op', async () => {
    const { session, sessions } = await signedIn();
    const caller = {
      userId: 'user-1',
      deviceId: 'dev-1',
      email: 'a@example.com',
      emailVerified: false,
      namespaceIds: ['ns-1'],
    };
    await expect(sessions.end(session.refreshToken, caller)).resolves.toEqual({ deviceId: 'dev-1' });
    await expect(sessions.refresh(session.refreshToken)).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(sessions.end('A'.repeat(43), caller)).resolves.toBeUndefined();
  });

  it("kind 14: ending another account's session answers like an unknown token and changes nothing", async () => {
    const { session, sessions } = await signedIn();
    const other = {
      userId: 'user-2',
      deviceId: 'dev-9',
      email: 'b@example.com',
      emailVerified: false,
      namespaceIds: ['ns-2'],
    };
    const unknown = await sessions.end('A'.repeat(43), other);
    await expect(sessions.end(session.refreshToken, other)).resolves.toEqual(unknown);
    await expect(sessions.refresh(session.refreshToken)).resolves.toBeDefined();
  });
});
