import { auth, channelOptions, insecureCredentials } from '@filesync/contracts';
import { JwksTokenVerifier, authServicePublicKeys } from '@filesync/server-kit';

/** Verifies access tokens with the keys the auth service publishes (fetched over gRPC, cached). */
export function createTokenVerifier(authAddress: string) {
  const client = new auth.AuthServiceClient(
    authAddress,
    insecureCredentials(),
    channelOptions('filesync.auth.v1.AuthService', ['GetPublicKeys']),
  );
  return { verifier: new JwksTokenVerifier(authServicePublicKeys(client)), close: () => client.close() };
}
