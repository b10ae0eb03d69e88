import { generateKeyPairSync } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from 'jose';
import type { auth } from '@filesync/contracts';
import {
  as,
  callError,
  connectStubs,
  signUp,
  statusOf,
  type Stubs,
  TEST_PASSWORD,
  unary,
  uniqueEmail,
} from '@filesync/test-support';
import { readContractStack } from './support/harness';

// AuthService on the wire: every RPC, the fields a client relies on and the documented errors.
describe('AuthService (auth image)', () => {
  const stack = readContractStack();
  let stubs: Stubs;
  let session: auth.Session;
  const rpc = () => ({
    signUp: stubs.auth.signUp.bind(stubs.auth),
    login: stubs.auth.login.bind(stubs.auth),
    refresh: stubs.auth.refreshSession.bind(stubs.auth),
    logout: stubs.auth.logout.bind(stubs.auth),
    listDevices: stubs.auth.listDevices.bind(stubs.auth),
    publicKeys: stubs.auth.getPublicKeys.bind(stubs.auth),
    storage: stubs.auth.getStorageCredentials.bind(stubs.auth),
  });

  beforeAll(async () => {
    stubs = connectStubs(stack);
    session = await signUp(stubs, 'auth-contract');
  });

  afterAll(() => stubs?.close());

  test('SignUp: a session whose access token carries the account; bad input and a taken email rejected', async () => {
    expect(session).toMatchObject({ email: expect.stringContaining('auth-contract-') });
    expect(session.userId).not.toBe('');
    expect(session.rootNamespaceId).not.toBe('');
    const claims = decodeJwt(session.accessToken);
    expect(claims).toMatchObject({
      sub: session.userId,
      dev: session.deviceId,
      ns: [session.rootNamespaceId],
    });
    expect(decodeProtectedHeader(session.accessToken).alg).toBe('EdDSA');

    const signUpWith = (email: string, password: string) =>
      statusOf(unary(rpc().signUp, { email, password, deviceName: 'laptop' }, as()));
    expect({
      taken: await signUpWith(session.email, TEST_PASSWORD),
      malformedEmail: await signUpWith('not-an-email', TEST_PASSWORD),
      weakPassword: await signUpWith(uniqueEmail('weak'), 'short'),
    }).toEqual({
      taken: 'ALREADY_EXISTS',
      malformedEmail: 'INVALID_ARGUMENT',
      weakPassword: 'INVALID_ARGUMENT',
    });
  });

  test('Login: a new device of the same account; a wrong password is UNAUTHENTICATED', async () => {
    const login = await unary(
      rpc().login,
      { email: session.email, password: TEST_PASSWORD, deviceName: 'second' },
      as(),
    );
    expect(login.session).toMatchObject({ userId: session.userId, rootNamespaceId: session.rootNamespaceId });
    expect(login.session?.deviceId).not.toBe(session.deviceId);

    const wrong = await callError(
      unary(rpc().login, { email: session.email, password: 'wrong password!', deviceName: 'x' }, as()),
    );
    const unknown = await callError(
      unary(rpc().login, { email: uniqueEmail('nobody'), password: TEST_PASSWORD, deviceName: 'x' }, as()),
    );
    expect([wrong.code, unknown.code]).toEqual([status.UNAUTHENTICATED, status.UNAUTHENTICATED]);
    // Same message: the answer does not tell whether the account exists.
    expect(wrong.details).toBe(unknown.details);
    expect(await statusOf(unary(rpc().login, { email: '', password: '', deviceName: '' }, as()))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  test('RefreshSession: a new token pair; the old refresh token, used again, revokes the chain', async () => {
    const own = await signUp(stubs, 'refresh');
    const renewed = (await unary(rpc().refresh, { refreshToken: own.refreshToken }, as()))
      .session as auth.Session;
    expect(renewed).toMatchObject({ userId: own.userId, deviceId: own.deviceId });
    expect(renewed.refreshToken).not.toBe(own.refreshToken);
    expect(renewed.accessTokenExpiresAtMs).toBeGreaterThan(Date.now());

    expect(await statusOf(unary(rpc().refresh, { refreshToken: own.refreshToken }, as()))).toBe(
      'UNAUTHENTICATED',
    );
    // Reuse detected: the newer token of the same chain stops working too.
    expect(await statusOf(unary(rpc().refresh, { refreshToken: renewed.refreshToken }, as()))).toBe(
      'UNAUTHENTICATED',
    );
    expect(await statusOf(unary(rpc().refresh, { refreshToken: 'made-up' }, as()))).toBe('UNAUTHENTICATED');
    expect(await statusOf(unary(rpc().refresh, { refreshToken: '' }, as()))).toBe('INVALID_ARGUMENT');
  });

  test("Logout: the session's refresh token stops working; another account's token is answered like an unknown one", async () => {
    const own = await signUp(stubs, 'logout');
    const other = await signUp(stubs, 'logout-other');
    expect(await statusOf(unary(rpc().logout, { refreshToken: other.refreshToken }, as(own)))).toBe('OK');
    expect(await statusOf(unary(rpc().refresh, { refreshToken: other.refreshToken }, as()))).toBe('OK');
    expect(await statusOf(unary(rpc().logout, { refreshToken: own.refreshToken }, as()))).toBe(
      'UNAUTHENTICATED',
    );
    await unary(rpc().logout, { refreshToken: own.refreshToken }, as(own));
    expect(await statusOf(unary(rpc().refresh, { refreshToken: own.refreshToken }, as()))).toBe(
      'UNAUTHENTICATED',
    );
  });

  test('ListDevices: the caller’s devices, oldest first', async () => {
    const own = await signUp(stubs, 'devices');
    await unary(rpc().login, { email: own.email, password: TEST_PASSWORD, deviceName: 'phone' }, as());
    const { devices } = await unary(rpc().listDevices, {}, as(own));
    expect(devices.map((device) => device.name)).toEqual(['devices-device', 'phone']);
    expect(devices[0]?.deviceId).toBe(own.deviceId);
    expect(devices[0]?.createdAtMs).toBeLessThanOrEqual(devices[1]?.createdAtMs ?? 0);
    expect(await statusOf(unary(rpc().listDevices, {}, as()))).toBe('UNAUTHENTICATED');
  });

  test('GetPublicKeys: the JWK that verifies issued access tokens', async () => {
    const { keys } = await unary(rpc().publicKeys, {}, as());
    const { kid } = decodeProtectedHeader(session.accessToken);
    const key = keys.find((candidate) => candidate.keyId === kid);
    expect(key?.algorithm).toBe('EdDSA');
    const verified = await jwtVerify(
      session.accessToken,
      await importJWK(JSON.parse(key?.jwkJson ?? '{}'), 'EdDSA'),
      {
        issuer: 'filesync-auth',
        audience: 'filesync',
      },
    );
    expect(verified.payload.sub).toBe(session.userId);
  });

  test('GetStorageCredentials: needs a valid access token', async () => {
    const grant = await unary(rpc().storage, {}, as(session));
    expect(grant.accessKeyId).not.toBe('');
    expect(grant.expiresAtMs).toBeGreaterThan(Date.now());
    expect(await statusOf(unary(rpc().storage, {}, as()))).toBe('UNAUTHENTICATED');

    // The same claims signed with a key auth never had.
    const { privateKey } = generateKeyPairSync('ed25519');
    const forged = await new SignJWT(decodeJwt(session.accessToken))
      .setProtectedHeader(decodeProtectedHeader(session.accessToken) as { alg: string })
      .sign(privateKey);
    expect(await statusOf(unary(rpc().storage, {}, { timeoutMs: 10_000, accessToken: forged }))).toBe(
      'UNAUTHENTICATED',
    );
  });
});
