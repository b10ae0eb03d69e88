import { auth, channelCredentials, channelOptions, metadata, notifier, syncdiff } from '@filesync/contracts';
import type { ServerAddresses } from '../config/server-addresses';

/** Deadlines of outgoing calls. */
export const TIMEOUTS = {
  /** Ordinary unary calls. */
  unaryMs: 15_000,
  /** Sign-up and login hash a password with a memory-hard KDF on the server. */
  passwordMs: 30_000,
  /** CommitFiles writes up to 500 files in several transactions. */
  commitMs: 60_000,
  /** A whole Diff stream, manifest up and actions down. */
  diffMs: 10 * 60_000,
} as const;

export interface ServiceClients {
  readonly auth: auth.AuthServiceClient;
  readonly metadata: metadata.MetadataServiceClient;
  readonly syncDiff: syncdiff.SyncDiffServiceClient;
  readonly notifier: notifier.NotifierServiceClient;
  close(): void;
}

/**
 * Clients of the four services at `addresses`: over TLS when `addresses.tls` (trusting the system
 * roots and `extraCa`, the PEM of `--ca`), plaintext otherwise.
 */
export function createServiceClients(addresses: ServerAddresses, extraCa?: string): ServiceClients {
  const credentials = channelCredentials(addresses.tls, extraCa);
  const authClient = new auth.AuthServiceClient(
    addresses.auth,
    credentials,
    channelOptions(auth.AuthServiceClient.serviceName),
  );
  const metadataClient = new metadata.MetadataServiceClient(
    addresses.metadata,
    credentials,
    channelOptions(metadata.MetadataServiceClient.serviceName),
  );
  const syncDiffClient = new syncdiff.SyncDiffServiceClient(
    addresses.syncDiff,
    credentials,
    channelOptions(syncdiff.SyncDiffServiceClient.serviceName),
  );
  const notifierClient = new notifier.NotifierServiceClient(
    addresses.notifier,
    credentials,
    channelOptions(notifier.NotifierServiceClient.serviceName),
  );
  return {
    auth: authClient,
    metadata: metadataClient,
    syncDiff: syncDiffClient,
    notifier: notifierClient,
    close() {
      for (const client of [authClient, metadataClient, syncDiffClient, notifierClient]) client.close();
    },
  };
}
