import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { auth } from '@filesync/contracts';
import { Authenticator, NotSignedInError } from './authenticator';
import { LogoutNotSentError } from './errors';
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
function fakeAuthClient(now: () => number, logoutFails?: { code: number; details: string }) {
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
    logout: (_request: auth.LogoutRequest, _metadata: unknown, _options: unknown, callback: unknown) => {
      if (!logoutFails) return reply(callback, {});
      const error = Object.assign(new Error(`${logoutFails.code} X: ${logoutFails.details}`), logoutFails);
      setImmediate(() => (callback as (error: Error) => void)(error));
      return { cancel: () => undefined };
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

  it('logout keeps the session when the server could not be told for a reason to fix here, and says why', async () => {
    const untrusted = {
      code: 14,
      details: 'No connection established. Last error: Error: self-signed certificate in certificate chain',
    };
    const { client } = fakeAuthClient(Date.now, untrusted);
    const store = new SessionStore(home);
    const authenticator = new Authenticator(store, client, 'host:1');
    await authenticator.login('a@example.com', 'correct horse battery', 'laptop');
    const fixableHere = (error: unknown) =>
      /certificate/.test((error as { details: string }).details)
        ? 'the certificate is not trusted'
        : undefined;
    const error = await authenticator.logout({ fixableHere }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LogoutNotSentError);
    expect((error as Error).message).toMatch(
      /^not logged out: .*could not be told: the certificate is not trusted\. .*`filesync logout` again.*`filesync devices remove laptop`$/,
    );
    expect(authenticator.session).toBeDefined();
    expect(await store.load()).toMatchObject({ refreshToken: 'refresh-1' });
  });

  it('logout ends the session here when the server cannot be reached, as before', async () => {
    const { client } = fakeAuthClient(Date.now, { code: 14, details: 'connect ECONNREFUSED 127.0.0.1:1' });
    const store = new SessionStore(home);
    const authenticator = new Authenticator(store, client, 'host:1');
    await authenticator.login('a@example.com', 'correct horse battery', 'laptop');
    expect(await authenticator.logout({ fixableHere: () => undefined })).toMatchObject({ revoked: false });
    expect(await store.load()).toBeUndefined();
  });
});
