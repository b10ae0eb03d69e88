import { parseOptions } from '@node-rs/argon2';
import { argon2Hasher, DEFAULT_ARGON2_COST } from './passwords';

describe('argon2Hasher', () => {
  const passwords = argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

  it('hashes with argon2id at the given cost and a random salt', async () => {
    const first = await passwords.hash('correct horse battery');
    const second = await passwords.hash('correct horse battery');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(first).not.toBe(second);
    expect(parseOptions(first)).toMatchObject({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  });

  it('verifies the right password only, and never throws on a malformed hash', async () => {
    const stored = await passwords.hash('correct horse battery');
    await expect(passwords.verify(stored, 'correct horse battery')).resolves.toBe(true);
    await expect(passwords.verify(stored, 'correct horse batterY')).resolves.toBe(false);
    await expect(passwords.verify('not-a-hash', 'anything')).resolves.toBe(false);
    await expect(passwords.verifyDummy('anything')).resolves.toBeUndefined();
  });

  it('defaults to at least the OWASP argon2id minimum', () => {
    expect(DEFAULT_ARGON2_COST.memoryCost).toBeGreaterThanOrEqual(19_456);
    expect(DEFAULT_ARGON2_COST.timeCost).toBeGreaterThanOrEqual(2);
  });
});
