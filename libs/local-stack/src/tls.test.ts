import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { ensureLocalTls } from './tls';

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
