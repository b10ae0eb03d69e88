// Drives the handlers with the domain over in-memory fakes (see testing/in-memory-stores.ts) and a
// hand-made call context; the gRPC wiring itself is covered by the e2e suite.
import { Metadata } from '@grpc/grpc-js';
import pino from 'pino';
import { unauthenticated, type CallContext } from '@filesync/server-kit';
import { StorageCredentials } from './domain/storage-credentials';
import { authHandlers } from './handlers';
import { createTestDomain } from './testing/test-domain';

async function setup() {
  const domain = await createTestDomain();
  const storage = new StorageCredentials(
    {
      issue: async () => ({ accessKeyId: 'AKIA', secretAccessKey: 's', sessionToken: 't', expiresAtMs: 1 }),
    },
    { bucket: 'blocks', region: 'us-east-1', endpoint: '', forcePathStyle: false },
  );
  const handlers = authHandlers({
    accounts: domain.accounts,
    sessions: domain.sessions,
    storage,
    publicKeys: [domain.key.published],
    verification: domain.verification,
    revokedDevices: () => domain.revocations.revokedDevices(domain.clock.now()),
  });
  const context = (token?: string): CallContext => ({
    method: 'test',
    metadata: new Metadata(),
    signal: new AbortController().signal,
    deadline: undefined,
    logger: pino({ level: 'silent' }),
    bearerToken: token,
    principal: () =>
      token ? domain.verifier.verify(token) : Promise.reject(unauthenticated('missing access token')),
  });
  return { ...domain, handlers, context };
}

const signUp = { email: 'Alice@Example.com', password: 'correct horse battery', deviceName: 'laptop' };

describe('auth handlers', () => {
  it('signs up with a normalised email and answers a full session', async () => {
    const { handlers, context } = await setup();
    const { session } = await handlers.signUp(signUp, context());
    expect(session).toEqual({
      accessToken: expect.any(String),
      accessTokenExpiresAtMs: expect.any(Number),
      refreshToken: expect.any(String),
      refreshTokenExpiresAtMs: expect.any(Number),
      userId: expect.any(String),
      deviceId: expect.any(String),
      rootNamespaceId: expect.any(String),
      email: 'alice@example.com',
      emailVerified: false,
    });
  });

  it.each([
    ['signUp', { ...signUp, email: 'nope' }, /email is not a valid address/],
    ['signUp', { ...signUp, password: 'short' }, /password must be 10 to 1024 characters/],
    ['login', { ...signUp, password: '' }, /password is required/],
    ['refreshSession', { refreshToken: '' }, /refresh_token is required/],
  ] as const)('%s rejects bad input as INVALID_ARGUMENT', async (method, request, message) => {
    const { handlers, context } = await setup();
    const handler = handlers[method] as (request: unknown, context: CallContext) => Promise<unknown>;
    await expect(handler(request, context())).rejects.toMatchObject({ kind: 'invalid-argument', message });
  });

  it('requires an access token for devices, logout and credentials', async () => {
    const { handlers, context } = await setup();
    await expect(handlers.listDevices({}, context())).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(handlers.logout({ refreshToken: 'x' }, context())).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
    await expect(handlers.getStorageCredentials({}, context('forged'))).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
  });

  it('answers devices, storage credentials and public keys in proto shape', async () => {
    const { handlers, context, key } = await setup();
    const { session } = await handlers.signUp(signUp, context());
    const caller = context(session!.accessToken);
    await expect(handlers.listDevices({}, caller)).resolves.toEqual({
      devices: [
        {
          deviceId: session!.deviceId,
          name: 'laptop',
          createdAtMs: expect.any(Number),
          lastSeenAtMs: expect.any(Number),
        },
      ],
    });
    await expect(handlers.getStorageCredentials({}, caller)).resolves.toEqual({
      accessKeyId: 'AKIA',
      secretAccessKey: 's',
      sessionToken: 't',
      expiresAtMs: 1,
      bucket: 'blocks',
      region: 'us-east-1',
      endpoint: '',
      prefixes: [{ namespaceId: session!.rootNamespaceId, keyPrefix: `ns/${session!.rootNamespaceId}/` }],
      forcePathStyle: false,
    });
    await handlers.logout({ refreshToken: session!.refreshToken }, caller);
    await expect(handlers.getStorageCredentials({}, caller)).rejects.toMatchObject({
      kind: 'unauthenticated',
      message: /logged out/,
    });
    await expect(handlers.listRevokedDevices({}, context())).resolves.toEqual({
      deviceIds: [session!.deviceId],
    });
    const { keys } = await handlers.getPublicKeys({}, context());
    expect(keys).toEqual([{ keyId: key.published.keyId, algorithm: 'EdDSA', jwkJson: expect.any(String) }]);
    expect(JSON.parse(keys[0]!.jwkJson)).toEqual(key.published.jwk);
  });
});

describe('kind 15: sign-up mails a code, and only that code verifies the address', () => {
  it('mails a code at sign-up; a wrong code fails, the right one answers a token that says verified', async () => {
    const { handlers, context, mailer, verifier } = await setup();
    const { session } = await handlers.signUp(signUp, context());
    const code = mailer.lastCodeTo('alice@example.com');
    expect(code).toMatch(/^\d{6}$/);
    const caller = context(session!.accessToken);
    expect((await verifier.verify(session!.accessToken)).emailVerified).toBe(false);

    const wrong = code === '000000' ? '000001' : '000000';
    await expect(handlers.verifyEmail({ code: wrong }, caller)).rejects.toMatchObject({
      kind: 'failed-precondition',
      message: /code is wrong/,
    });
    await expect(handlers.verifyEmail({ code: 'abc' }, caller)).rejects.toMatchObject({
      kind: 'invalid-argument',
    });
    const { accessToken } = await handlers.verifyEmail(
      { code: `${code!.slice(0, 3)} ${code!.slice(3)}` },
      caller,
    );
    expect(await verifier.verify(accessToken)).toMatchObject({ emailVerified: true });
    await expect(handlers.resendVerificationEmail({}, caller)).resolves.toEqual({ alreadyVerified: true });
    // A refresh keeps the confirmation.
    const refreshed = await handlers.refreshSession({ refreshToken: session!.refreshToken }, context());
    expect(refreshed.session?.emailVerified).toBe(true);
  });

  it('allows five wrong codes in any burst, then only a new code helps', async () => {
    const { handlers, context, mailer, clock } = await setup();
    const { session } = await handlers.signUp(signUp, context());
    const code = mailer.lastCodeTo('alice@example.com')!;
    const caller = context(session!.accessToken);
    const guesses = Array.from({ length: 20 }, (_, index) =>
      String((Number(code) + 1 + index) % 1_000_000).padStart(6, '0'),
    );
    const outcomes = await Promise.allSettled(
      [...guesses, code].map((guess) => handlers.verifyEmail({ code: guess }, caller)),
    );
    // The right code came after five wrong ones had been counted: refused all the same.
    expect(outcomes.at(-1)).toMatchObject({
      status: 'rejected',
      reason: { message: /too many wrong codes/ },
    });
    await expect(handlers.resendVerificationEmail({}, caller)).rejects.toMatchObject({
      kind: 'resource-exhausted',
    });
    clock.advance(60_000);
    await expect(handlers.resendVerificationEmail({}, caller)).resolves.toEqual({ alreadyVerified: false });
    const fresh = mailer.lastCodeTo('alice@example.com')!;
    await expect(handlers.verifyEmail({ code: fresh }, caller)).resolves.toMatchObject({
      accessToken: expect.any(String),
    });
  });
});

describe('RemoveDevice: a lost device is signed out from another one', () => {
  it('removes another device of the account: its refresh token and access tokens stop working', async () => {
    const { handlers, context } = await setup();
    const { session: laptop } = await handlers.signUp(signUp, context());
    const { session: phone } = await handlers.login({ ...signUp, deviceName: 'phone' }, context());
    await handlers.removeDevice({ deviceId: phone!.deviceId }, context(laptop!.accessToken));
    const { devices } = await handlers.listDevices({}, context(laptop!.accessToken));
    expect(devices.map((device) => device.name)).toEqual(['laptop']);
    await expect(
      handlers.refreshSession({ refreshToken: phone!.refreshToken }, context()),
    ).rejects.toMatchObject({
      kind: 'unauthenticated',
      message: /removed from the account/,
    });
    await expect(handlers.listRevokedDevices({}, context())).resolves.toEqual({
      deviceIds: [phone!.deviceId],
    });
    // The laptop goes on as before.
    await expect(
      handlers.refreshSession({ refreshToken: laptop!.refreshToken }, context()),
    ).resolves.toBeDefined();
  });

  it('answers another account’s device NOT_FOUND, like one that never existed, and changes nothing', async () => {
    const { handlers, context } = await setup();
    const { session: alice } = await handlers.signUp(signUp, context());
    const { session: bob } = await handlers.signUp({ ...signUp, email: 'bob@example.com' }, context());
    const caller = context(alice!.accessToken);
    await expect(handlers.removeDevice({ deviceId: bob!.deviceId }, caller)).rejects.toMatchObject({
      kind: 'not-found',
    });
    await expect(
      handlers.removeDevice({ deviceId: '00000000-0000-4000-8000-000000000000' }, caller),
    ).rejects.toMatchObject({ kind: 'not-found' });
    await expect(handlers.listDevices({}, context(bob!.accessToken))).resolves.toMatchObject({
      devices: [{ deviceId: bob!.deviceId }],
    });
  });

  it('refuses bad input, the calling device and a caller without a token', async () => {
    const { handlers, context } = await setup();
    const { session } = await handlers.signUp(signUp, context());
    const caller = context(session!.accessToken);
    await expect(handlers.removeDevice({ deviceId: '' }, caller)).rejects.toMatchObject({
      kind: 'invalid-argument',
    });
    await expect(handlers.removeDevice({ deviceId: 'laptop' }, caller)).rejects.toMatchObject({
      kind: 'invalid-argument',
    });
    await expect(handlers.removeDevice({ deviceId: session!.deviceId }, caller)).rejects.toMatchObject({
      kind: 'failed-precondition',
      message: /filesync logout/,
    });
    await expect(handlers.removeDevice({ deviceId: session!.deviceId }, context())).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
  });
});
