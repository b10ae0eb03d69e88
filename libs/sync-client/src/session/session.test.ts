import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { auth } from '@filesync/contracts';
import { Authenticator, NotSignedInError } from './authenticator';
import { CorruptSessionError, SessionStore } from './session-store';

function session(n: number, accessTokenExpiresAtMs: number): auth.Session {
  return {
    accessToken: `access-${n}`,
    accessTokenExpiresAtMs,
    refreshToken: `refresh-${n}`,
    refreshTokenExpiresAtMs: accessTokenExpiresAtMs + 1_000_000,
    userId: 'user-1',
    deviceId: 'device-1',
    rootNamespaceId: 'ns-1',
    email: 'a@example.com',
    emailVerified: false,
  };
}

/** A fake of the generated auth client: only the methods the authenticator calls. */
function fakeAuthClient(now: () => number) {
  const refreshedWith: string[] = [];
  let issued = 1;
  const reply = <T>(callback: unknown, response: T) => {
    setImmediate(() => (callback as (error: null, response: T) => void)(null, response));
    return { cancel: () => undefined };
  };
  const client = {
    login: (_request: auth.LoginRequest, _metadata: unknown, _options: unknown, callback: unknown) =>
      reply(callback, { session: session(issued, now() + 900_000) }),
    refreshSession: (
      request: auth.RefreshSessionRequest,
      _metadata: unknown,
      _options: unknown,
      callback: unknown,
    ) => {
      refreshedWith.push(request.refreshToken);
      issued++;
      return reply(callback, { session: session(issued, now() + 900_000) });
    },
  };
  return { client: client as unknown as auth.AuthServiceClient, refreshedWith };
}

describe('session', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'session-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('stores the session readable by the owner only', async () => {
    const now = 1_000_000;
    const { client } = fakeAuthClient(() => now);
    const authenticator = new Authenticator(new SessionStore(home), client, 'host:1', () => now);
    await authenticator.login('a@example.com', 'correct horse battery', 'laptop');
    const file = join(home, 'session.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await new SessionStore(home).load()).toMatchObject({
      server: 'host:1',
      deviceName: 'laptop',
      refreshToken: 'refresh-1',
    });
  });

  it('refreshes once shortly before expiry and stores the rotated refresh token', async () => {
    let now = 1_000_000;
    const { client, refreshedWith } = fakeAuthClient(() => now);
    const store = new SessionStore(home);
    const authenticator = new Authenticator(store, client, 'host:1', () => now);
    await authenticator.login('a@example.com', 'correct horse battery');
    expect(await authenticator.accessToken()).toBe('access-1');

    now += 900_000 - 30_000;
    const tokens = await Promise.all([authenticator.accessToken(), authenticator.accessToken()]);
    expect(tokens).toEqual(['access-2', 'access-2']);
    expect(refreshedWith).toEqual(['refresh-1']);
    expect((await store.load())?.refreshToken).toBe('refresh-2');
  });

  it('says clearly when nobody is signed in or the file is damaged', async () => {
    const { client } = fakeAuthClient(Date.now);
    const authenticator = new Authenticator(new SessionStore(home), client, 'host:1');
    expect(await authenticator.load()).toBeUndefined();
    await expect(authenticator.accessToken()).rejects.toThrow(NotSignedInError);
    await writeFile(join(home, 'session.json'), '{"server": 1}');
    await expect(new SessionStore(home).load()).rejects.toThrow(CorruptSessionError);
  });
});
