import { readFile } from 'node:fs/promises';
import { pemCertificates } from '@filesync/contracts';
import { CA_ENV, InvalidCaError } from './server-addresses';

/**
 * The certificates (PEM) of `--ca FILE`, else of FILESYNC_CA, else undefined: trusted for the
 * server and for S3 beside the system roots. Throws InvalidCaError naming the file when it
 * cannot be read or holds no PEM certificate.
 */
export async function readTrustedCa(file = process.env[CA_ENV] || undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidCaError(
      `cannot read the CA file ${file} (--ca or ${CA_ENV}): ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const certificates = pemCertificates(text);
  if (certificates.length === 0) {
    throw new InvalidCaError(
      `${file} (--ca or ${CA_ENV}) holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`,
    );
  }
  return certificates.join('\n');
}
