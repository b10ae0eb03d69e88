// Unit tier: TLS settings from files in a temp folder, and a real grpc-js server on 127.0.0.1:0.
import { credentials } from '@grpc/grpc-js';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { z } from 'zod';
import { notifier, unary } from '@filesync/contracts';
import { ConfigError, loadConfig, serviceEnvFor, serviceSettings } from './config';
import { implement } from './grpc/implement';
import { startGrpcService } from './grpc/server';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import { peerCredentials } from './tls';

/** A self-signed certificate for 127.0.0.1 (its own CA), valid from `fromMs` for `days`. */
function selfSigned(fromMs = Date.now() - 60_000, days = 30): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // Positive and in minimal DER: `0` before random hex made an unreadable certificate whenever
  // the first random byte was 0 (as local-stack's certificateSerial explains).
  const serial = randomBytes(8);
  serial[0] = 0x40 | (serial[0]! & 0x3f);
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(fromMs);
  cert.validity.notAfter = new Date(fromMs + days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'test' }]);
  cert.setIssuer([{ name: 'commonName', value: 'test' }]);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: privateKey };
}

const schema = z.object(serviceEnvFor({ grpc: 0, metrics: 0 }));
/** As a service reads it: metadata's schema calls serviceSettings inside a zod transform. */
const settingsOf = (env: Record<string, string>) =>
  loadConfig(schema.transform(serviceSettings), { AWS_REGION: 'us-east-1', ...env });

describe('service TLS settings', () => {
  let dir: string;
  let files: { cert: string; key: string; otherKey: string; expired: string; expiredKey: string };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'server-tls-'));
    const good = selfSigned();
    const other = selfSigned();
    const expired = selfSigned(Date.now() - 10 * 86_400_000, 2);
    files = {
      cert: join(dir, 'cert.pem'),
      key: join(dir, 'key.pem'),
      otherKey: join(dir, 'other-key.pem'),
      expired: join(dir, 'expired.pem'),
      expiredKey: join(dir, 'expired-key.pem'),
    };
    writeFileSync(files.cert, good.cert);
    writeFileSync(files.key, good.key);
    writeFileSync(files.otherKey, other.key);
    writeFileSync(files.expired, expired.cert);
    writeFileSync(files.expiredKey, expired.key);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is plaintext when no TLS variable is set (or they are empty)', () => {
    expect(settingsOf({}).tls).toBeUndefined();
    expect(settingsOf({ FILESYNC_TLS_CERT_FILE: '', FILESYNC_TLS_KEY_FILE: '' }).tls).toBeUndefined();
  });

  it('reads the certificate, key and CA when they fit together', () => {
    const { tls } = settingsOf({
      FILESYNC_TLS_CERT_FILE: files.cert,
      FILESYNC_TLS_KEY_FILE: files.key,
      FILESYNC_TLS_CA_FILE: files.cert,
    });
    expect(tls?.certChain.toString()).toContain('BEGIN CERTIFICATE');
    expect(tls?.privateKey.toString()).toContain('PRIVATE KEY');
    expect(tls?.ca?.toString()).toContain('BEGIN CERTIFICATE');
  });

  it.each([
    [
      { FILESYNC_TLS_CERT_FILE: 'cert' },
      /^Invalid configuration: FILESYNC_TLS_KEY_FILE is required when FILESYNC_TLS_CERT_FILE is set/,
    ],
    [
      { FILESYNC_TLS_KEY_FILE: 'key' },
      /FILESYNC_TLS_CERT_FILE is required when FILESYNC_TLS_KEY_FILE is set/,
    ],
    [
      { FILESYNC_TLS_CA_FILE: 'cert' },
      /FILESYNC_TLS_CA_FILE is invalid: it is used only by a service that serves TLS/,
    ],
    [
      { FILESYNC_TLS_CERT_FILE: '/nonexistent/cert.pem', FILESYNC_TLS_KEY_FILE: 'key' },
      /FILESYNC_TLS_CERT_FILE is invalid: cannot read \/nonexistent\/cert.pem \(ENOENT\)/,
    ],
    [
      { FILESYNC_TLS_CERT_FILE: 'key', FILESYNC_TLS_KEY_FILE: 'key' },
      /FILESYNC_TLS_CERT_FILE is invalid: .*key.pem: no PEM certificate/,
    ],
    [
      { FILESYNC_TLS_CERT_FILE: 'cert', FILESYNC_TLS_KEY_FILE: 'cert' },
      /FILESYNC_TLS_KEY_FILE is invalid: .*no readable PEM private key/,
    ],
    [
      { FILESYNC_TLS_CERT_FILE: 'cert', FILESYNC_TLS_KEY_FILE: 'otherKey' },
      /FILESYNC_TLS_KEY_FILE is invalid: .*other-key.pem is not the private key of the certificate in .*cert.pem/,
    ],
    [
      { FILESYNC_TLS_CERT_FILE: 'expired', FILESYNC_TLS_KEY_FILE: 'expiredKey' },
      /FILESYNC_TLS_CERT_FILE is invalid: .*the certificate expired on/,
    ],
  ])('refuses %j with one line naming the variable', (env, message) => {
    const resolved = Object.fromEntries(
      Object.entries(env).map(([name, file]) => [name, files[file as keyof typeof files] ?? file]),
    );
    let thrown: unknown;
    try {
      settingsOf(resolved);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('\n');
  });

  it('serves TLS that a peer trusting the CA file reaches, and a plaintext client does not', async () => {
    const settings = settingsOf({
      FILESYNC_TLS_CERT_FILE: files.cert,
      FILESYNC_TLS_KEY_FILE: files.key,
      FILESYNC_TLS_CA_FILE: files.cert,
    });
    const logger = createLogger('test', 'silent');
    const metrics = createMetrics('test');
    const service = await startGrpcService({
      serviceName: 'test',
      settings: { ...settings, host: '127.0.0.1', port: 0, metricsPort: 0 },
      logger,
      metrics,
      services: [
        {
          name: 'filesync.notifier.v1.NotifierService',
          definition: notifier.NotifierServiceService,
          implementation: implement(
            notifier.NotifierServiceService,
            { listDeliveries: async () => ({ deliveries: [] }) },
            { logger, metrics },
          ),
        },
      ],
    });
    const address = `127.0.0.1:${service.port}`;
    const peer = new notifier.NotifierServiceClient(address, peerCredentials(settings));
    const plaintext = new notifier.NotifierServiceClient(address, credentials.createInsecure());
    try {
      await expect(
        unary(peer.listDeliveries.bind(peer), { limit: 1 }, { timeoutMs: 10_000 }),
      ).resolves.toEqual({
        deliveries: [],
      });
      await expect(
        unary(plaintext.listDeliveries.bind(plaintext), { limit: 1 }, { timeoutMs: 10_000 }),
      ).rejects.toMatchObject({ code: 14 });
    } finally {
      peer.close();
      plaintext.close();
      await service.shutdown('test');
    }
  });
});
