import { checkLoginPassword, checkNewPassword, deviceNameOf, normaliseEmail } from './input-rules';

describe('input rules', () => {
  it('normalises email to trimmed lowercase', () => {
    expect(normaliseEmail('  Alice@Example.COM ')).toBe('alice@example.com');
  });

  it.each([
    '',
    'alice',
    'alice@',
    '@example.com',
    'a b@example.com',
    'alice@localhost',
    `${'a'.repeat(250)}@x.io`,
  ])('rejects email %p as INVALID_ARGUMENT', (email) => {
    expect(() => normaliseEmail(email)).toThrow(expect.objectContaining({ kind: 'invalid-argument' }));
  });

  it('accepts passwords of 10 to 1024 characters, counted in code points', () => {
    expect(checkNewPassword('0123456789')).toBe('0123456789');
    expect(() => checkNewPassword('012345678')).toThrow(/10 to 1024 characters long, got 9/);
    expect(() => checkNewPassword('x'.repeat(1025))).toThrow(/got 1025/);
    expect(checkNewPassword('🔑'.repeat(10))).toHaveLength(20);
  });

  it('bounds login passwords without judging them', () => {
    expect(checkLoginPassword('short')).toBe('short');
    expect(() => checkLoginPassword('')).toThrow(/required/);
    expect(() => checkLoginPassword('x'.repeat(1025))).toThrow(/at most 1024/);
  });

  it('cleans device names', () => {
    expect(deviceNameOf(' laptop ')).toBe('laptop');
    expect(deviceNameOf('')).toBe('unnamed device');
    expect(() => deviceNameOf('a\nb')).toThrow(/control characters/);
    expect(() => deviceNameOf('x'.repeat(101))).toThrow(/at most 100/);
  });
});
