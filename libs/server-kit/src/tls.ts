import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { z } from 'zod';
import { channelCredentials, pemCertificates } from '@filesync/contracts';
import { TLS_ENV } from '@filesync/resources';

/** TLS material a service serves with, read and checked at start. */
export interface ServerTls {
  /** The certificate chain, PEM: the service's certificate first, then any intermediates. */
  readonly certChain: Buffer;
  /** The certificate's private key, PEM. */
  readonly privateKey: Buffer;
  /** Extra roots (PEM) the service trusts when it calls the other services; absent = system roots only. */
  readonly ca: Buffer | undefined;
}

/** A PEM file named by a variable: read and checked by `check`, which returns a problem or nothing. */
const pemFile = (check: (pem: string) => string | undefined) =>
  z
    .string()
    .optional()
    .transform((path, ctx): { path: string; pem: Buffer } | undefined => {
      if (path === undefined || path.trim() === '') return undefined;
      let pem: Buffer;
      try {
        pem = readFileSync(path);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        });
        return z.NEVER;
      }
      const problem = check(pem.toString());
      if (problem) {
        ctx.addIssue({ code: 'custom', message: `${path}: ${problem}` });
        return z.NEVER;
      }
      return { path, pem };
    });

function certificateProblem(pem: string): string | undefined {
  const blocks = pemCertificates(pem);
  if (blocks.length === 0) return 'no PEM certificate in it ("-----BEGIN CERTIFICATE-----")';
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      return 'a certificate in it cannot be parsed';
    }
  }
  return undefined;
}

function serverCertificateProblem(pem: string): string | undefined {
  const problem = certificateProblem(pem);
  if (problem) return problem;
  const leaf = new X509Certificate(pemCertificates(pem)[0]!);
  if (Date.parse(leaf.validTo) <= Date.now()) return `the certificate expired on ${leaf.validTo}`;
  return undefined;
}

function privateKeyProblem(pem: string): string | undefined {
  try {
    createPrivateKey({ key: pem, format: 'pem' });
    return undefined;
  } catch {
    return 'no readable PEM private key in it (an encrypted key is not supported)';
  }
}

/** The TLS variables as every service's schema reads them (spread into serviceEnv). */
export const tlsEnv = {
  [TLS_ENV.certFile]: pemFile(serverCertificateProblem),
  [TLS_ENV.keyFile]: pemFile(privateKeyProblem),
  [TLS_ENV.caFile]: pemFile(certificateProblem),
};

type ParsedTlsEnv = { [K in keyof typeof tlsEnv]: z.infer<(typeof tlsEnv)[K]> };

/**
 * The service's TLS from its parsed variables, or undefined when none is set. The rules across
 * variables are checked here; each problem names the variable (loadConfig's format), and a
 * setting comes back only when there is none.
 */
export function serverTls(env: ParsedTlsEnv): { tls: ServerTls | undefined; problems: string[] } {
  const cert = env[TLS_ENV.certFile];
  const key = env[TLS_ENV.keyFile];
  const ca = env[TLS_ENV.caFile];
  if (!cert && !key) {
    return ca
      ? {
          tls: undefined,
          problems: [
            `${TLS_ENV.caFile} is invalid: it is used only by a service that serves TLS (set ${TLS_ENV.certFile} and ${TLS_ENV.keyFile} too)`,
          ],
        }
      : { tls: undefined, problems: [] };
  }
  if (!cert || !key) {
    const [given, missing] = cert ? [TLS_ENV.certFile, TLS_ENV.keyFile] : [TLS_ENV.keyFile, TLS_ENV.certFile];
    return { tls: undefined, problems: [`${missing} is required when ${given} is set (both or neither)`] };
  }
  const leaf = new X509Certificate(pemCertificates(cert.pem.toString())[0]!);
  if (!leaf.checkPrivateKey(createPrivateKey({ key: key.pem, format: 'pem' }))) {
    return {
      tls: undefined,
      problems: [
        `${TLS_ENV.keyFile} is invalid: ${key.path} is not the private key of the certificate in ${cert.path}`,
      ],
    };
  }
  return { tls: { certChain: cert.pem, privateKey: key.pem, ca: ca?.pem }, problems: [] };
}

/**
 * Credentials for this service's calls to the other services of its deployment: TLS, trusting the
 * system roots and FILESYNC_TLS_CA_FILE, when this service serves TLS itself (a deployment's
 * services serve alike); plaintext otherwise.
 */
export function peerCredentials(settings: { readonly tls?: ServerTls | undefined }): ChannelCredentials {
  return channelCredentials(settings.tls !== undefined, settings.tls?.ca);
}
