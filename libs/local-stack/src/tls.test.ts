import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { certificateSerial, ensureLocalTls } from './tls';

describe('ensureLocalTls', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-tls-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a CA and a certificate for 127.0.0.1, ::1 and localhost that a client trusting the CA accepts', async () => {
    const files = ensureLocalTls(dir);
    const cert = new X509Certificate(readFileSync(files.certFile));
    expect(cert.checkIssued(new X509Certificate(readFileSync(files.caFile)))).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(statSync(files.keyFile).mode & 0o077).toBe(0);

    const server = createServer(
      { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) },
      (socket) => socket.end('ok'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(files.caFile) }, () => undefined);
        socket.setEncoding('utf8');
        socket.on('data', resolve);
        socket.on('error', reject);
      });
      expect(answer).toBe('ok');
    } finally {
      server.close();
    }
  });

  it('reuses valid files, re-signs an expiring server certificate with the same CA', () => {
    const first = ensureLocalTls(dir);
    const ca = readFileSync(first.caFile, 'utf8');
    const cert = readFileSync(first.certFile, 'utf8');
    ensureLocalTls(dir);
    expect(readFileSync(first.certFile, 'utf8')).toBe(cert);

    // 360 days on, the 1-year server certificate is within a week of expiry; the 5-year CA is not.
    ensureLocalTls(dir, Date.now() + 360 * 24 * 3600 * 1000);
    expect(readFileSync(first.caFile, 'utf8')).toBe(ca);
    expect(readFileSync(first.certFile, 'utf8')).not.toBe(cert);
  });
});

describe('certificateSerial', () => {
  /** A self-signed certificate with this serial, as Node reads it. */
  function readWithSerial(serial: string): X509Certificate {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
    cert.serialNumber = serial;
    cert.validity.notBefore = new Date();
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: 'serial' }]);
    cert.setIssuer([{ name: 'commonName', value: 'serial' }]);
    cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
    return new X509Certificate(forge.pki.certificateToPem(cert));
  }

  it('is positive minimal DER whatever the random bytes, so the certificate can be read', () => {
    for (const random of [
      Buffer.alloc(16),
      Buffer.alloc(16, 0xff),
      Buffer.from('00000f93df64e1cfe0000000000000ff', 'hex'),
    ]) {
      const serial = certificateSerial(random);
      expect(serial).toMatch(/^[4-7][0-9a-f]{31}$/);
      expect(readWithSerial(serial).serialNumber.toLowerCase()).toBe(serial);
    }
    // What it replaces: `0` before random hex whose first byte is 0 cannot be read.
    expect(() => readWithSerial(`0${'00'.repeat(15)}`)).toThrow();
  });
});
