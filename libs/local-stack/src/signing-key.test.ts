import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, persistentSigningKey } from './signing-key';

describe('signing keys', () => {
  test('are Ed25519 private keys in PKCS#8 PEM', () => {
    const pem = generateSigningKey();
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('ed25519');
  });

  test('a persistent key is created once, readable by its owner only, and reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signing-key-test-'));
    try {
      const file = join(dir, 'nested', 'signing-key.pem');
      const first = persistentSigningKey(file);
      expect(persistentSigningKey(file)).toBe(first);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
