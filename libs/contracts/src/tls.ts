import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { getCACertificates } from 'node:tls';

/**
 * The certificates a TLS connection of ours trusts, as PEM strings: Node's bundled roots (and
 * NODE_EXTRA_CA_CERTS), the operating system's store (what browsers and curl trust: a company's
 * own roots are installed there), and `extraCa` (the contents of `--ca FILE` or
 * FILESYNC_TLS_CA_FILE, one or more PEM certificates). Node alone trusts only its bundle unless run
 * with --use-system-ca, and gRPC's root list replaces Node's rather than adding to it, so the list
 * is built here once for gRPC and S3 alike.
 */
export function trustedRoots(extraCa?: string | Buffer): string[] {
  const roots = new Set([...getCACertificates('default'), ...systemCertificates()]);
  for (const pem of pemCertificates(extraCa === undefined ? '' : extraCa.toString())) roots.add(pem);
  return [...roots];
}

function systemCertificates(): string[] {
  try {
    return getCACertificates('system');
  } catch {
    // No readable system store (a minimal container): Node's bundle still applies.
    return [];
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every PEM certificate block in `text`, in order (anything around them ignored). */
export function pemCertificates(text: string): string[] {
  return text.match(PEM_CERTIFICATE) ?? [];
}

/**
 * gRPC channel credentials: TLS verified against trustedRoots(extraCa), or plaintext when
 * `tls` is false. Build them once per process and share them: each holds a parsed root list.
 */
export function channelCredentials(tls: boolean, extraCa?: string | Buffer): ChannelCredentials {
  return tls
    ? credentials.createSsl(Buffer.from(trustedRoots(extraCa).join('\n')))
    : credentials.createInsecure();
}
