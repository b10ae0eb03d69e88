import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLocalTls, generateSigningKey, servicePorts, startServices } from '@filesync/local-stack';
import { e2eDir, TEST_PORTS, type TestStack } from './harness';

/** The four services a second time, serving TLS, beside the tier's plaintext ones. */
export interface TlsServices {
  /** What clients pass as --server: grpcs://127.0.0.1:<auth port>. */
  readonly server: string;
  /** The CA that signed the services' certificate: what clients pass as --ca. */
  readonly caFile: string;
  /** Where their output goes. */
  readonly logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts auth, metadata, sync-diff and notifier as `npm start -- --tls` does (a CA and certificate
 * from ensureLocalTls, calls between the services over TLS too), on TEST_PORTS.tlsBasePort, against
 * the emulators and resources of the tier's running stack: a TLS deployment without a second set
 * of emulators. Its own signing key, so its tokens are its own.
 */
export async function startTlsServices(stack: TestStack): Promise<TlsServices> {
  const dir = e2eDir();
  const tls = ensureLocalTls(join(dir, 'state', 'tls'));
  const logFile = join(dir, 'tls-services.log');
  writeFileSync(logFile, '');
  const services = await startServices({
    ports: servicePorts(TEST_PORTS.tlsBasePort),
    emulators: stack.emulators,
    resources: stack.resources,
    signingKey: generateSigningKey(),
    sink: (name, line) => appendFileSync(logFile, `[${name}] ${line}\n`),
    tls,
    timeoutMs: 60_000,
  });
  return {
    server: `grpcs://127.0.0.1:${TEST_PORTS.tlsBasePort}`,
    caFile: tls.caFile,
    logFile,
    stop: () => services.stop(),
  };
}
