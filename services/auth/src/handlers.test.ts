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
      devices: [{ deviceId: session!.deviceId, name: 'laptop', createdAtMs: expect.any(Number) }],
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
    const { keys } = await handlers.getPublicKeys({}, context());
    expect(keys).toEqual([{ keyId: key.published.keyId, algorithm: 'EdDSA', jwkJson: expect.any(String) }]);
    expect(JSON.parse(keys[0]!.jwkJson)).toEqual(key.published.jwk);
  });
});
