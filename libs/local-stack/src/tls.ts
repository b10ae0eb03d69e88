import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/** The local stack's TLS files: a CA of its own and the services' certificate it signed. */
export interface LocalTlsFiles {
  /** The CA certificate clients trust: `filesync --ca <caFile>`. */
  readonly caFile: string;
  /** The services' certificate (127.0.0.1, ::1 and localhost) and its key: FILESYNC_TLS_CERT_FILE / _KEY_FILE. */
  readonly certFile: string;
  readonly keyFile: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_DAYS = 5 * 365;
const SERVER_DAYS = 365;
/** Certificates this close to expiry are replaced at start, so a running stack never outlives its own. */
const RENEW_BEFORE_MS = 7 * DAY_MS;
/** The names the services' certificate covers: every way a client of the local stack names it. */
export const LOCAL_TLS_NAMES = { dns: ['localhost'], ips: ['127.0.0.1', '::1'] } as const;

export function localTlsFiles(dir: string): LocalTlsFiles {
  return {
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server-key.pem'),
  };
}

/**
 * The TLS files in `dir`, made when missing: a CA (5 years; its key stays in `dir`, ca-key.pem, mode
 * 0600) and a certificate for the services signed by it (1 year). Files still valid for a week are
 * reused, so a client given `--ca` once keeps trusting the stack across restarts; an expiring server
 * certificate is re-signed by the same CA, and only an expiring or unreadable CA starts afresh.
 */
export function ensureLocalTls(dir: string, now = Date.now()): LocalTlsFiles {
  const files = localTlsFiles(dir);
  const caKeyFile = join(dir, 'ca-key.pem');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let ca = readCa(files.caFile, caKeyFile, now);
  if (!ca) {
    ca = makeCa(now);
    writeAtomically(caKeyFile, forge.pki.privateKeyToPem(ca.key), 0o600);
    writeAtomically(files.caFile, forge.pki.certificateToPem(ca.cert), 0o644);
  }
  if (!serverCertificateFits(files, ca.pem, now)) {
    const server = makeServerCertificate(ca, now);
    writeAtomically(files.keyFile, server.keyPem, 0o600);
    writeAtomically(files.certFile, server.certPem, 0o644);
  }
  return files;
}

interface Ca {
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
  readonly pem: string;
}

function readCa(caFile: string, caKeyFile: string, now: number): Ca | undefined {
  try {
    const pem = readFileSync(caFile, 'utf8');
    const keyPem = readFileSync(caKeyFile, 'utf8');
    if (!stillValid(new X509Certificate(pem), now)) return undefined;
    const cert = forge.pki.certificateFromPem(pem);
    const key = forge.pki.privateKeyFromPem(keyPem);
    return { cert, key, pem };
  } catch {
    return undefined;
  }
}

function serverCertificateFits(files: LocalTlsFiles, caPem: string, now: number): boolean {
  try {
    const cert = new X509Certificate(readFileSync(files.certFile));
    const ca = new X509Certificate(caPem);
    const key = readFileSync(files.keyFile);
    return (
      stillValid(cert, now) &&
      cert.checkIssued(ca) &&
      cert.verify(ca.publicKey) &&
      cert.checkPrivateKey(createPrivateKey(key)) &&
      LOCAL_TLS_NAMES.dns.every((name) => cert.checkHost(name) !== undefined) &&
      LOCAL_TLS_NAMES.ips.every((ip) => cert.checkIP(ip) !== undefined)
    );
  } catch {
    return false;
  }
}

function stillValid(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && Date.parse(cert.validTo) - RENEW_BEFORE_MS > now;
}

/** An RSA key made by Node (native and fast), in forge's form. */
function rsaKey(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    publicKey: forge.pki.publicKeyFromPem(publicKey),
  };
}

/**
 * A certificate serial number as forge takes it (hex): 16 random bytes, positive and in minimal
 * DER (RFC 5280 4.1.2.2), unique enough that a re-made certificate never repeats one. The first
 * byte is 0x40 to 0x7f: a `0` put before random hex gave a leading zero byte whenever the first
 * random byte was 0 (1 in 256), padding OpenSSL refuses ("illegal padding"), so such a
 * certificate could not be read.
 */
export function certificateSerial(random: Buffer = randomBytes(16)): string {
  const bytes = Buffer.from(random);
  bytes[0] = 0x40 | (bytes[0]! & 0x3f);
  return bytes.toString('hex');
}

function newCertificate(publicKey: forge.pki.rsa.PublicKey, now: number, days: number) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = certificateSerial();
  // A minute back: a client whose clock is slightly behind still accepts a fresh certificate.
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  return cert;
}

function makeCa(now: number): Ca {
  const keys = rsaKey();
  const cert = newCertificate(keys.publicKey, now, CA_DAYS);
  const name = [
    { name: 'commonName', value: 'filesync local stack CA' },
    { name: 'organizationName', value: 'filesync (development only)' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey, pem: forge.pki.certificateToPem(cert) };
}

function makeServerCertificate(ca: Ca, now: number): { certPem: string; keyPem: string } {
  const keys = rsaKey();
  const cert = newCertificate(keys.publicKey, now, SERVER_DAYS);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...LOCAL_TLS_NAMES.dns.map((value) => ({ type: 2, value })),
        ...LOCAL_TLS_NAMES.ips.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

function writeAtomically(file: string, text: string, mode: number): void {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, text, { mode });
  renameSync(temp, file);
}
