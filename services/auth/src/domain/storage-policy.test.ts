import { MAX_SESSION_POLICY_CHARS, storageSessionName, storageSessionPolicy } from './storage-policy';

describe('storageSessionPolicy', () => {
  it('allows only object reads and writes below the namespace prefix', () => {
    expect(storageSessionPolicy('filesync-blocks', ['0b7f3c9e-1f0e-4c55-9a43-5d2a1f6c7e11'])).toBe(
      '{"Version":"2012-10-17","Statement":[{"Sid":"NamespaceObjects","Effect":"Allow",' +
        '"Action":["s3:GetObject","s3:PutObject"],' +
        '"Resource":["arn:aws:s3:::filesync-blocks/ns/0b7f3c9e-1f0e-4c55-9a43-5d2a1f6c7e11/*"]}]}',
    );
  });

  it('lists one resource per namespace, sorted and without duplicates', () => {
    const policy = JSON.parse(storageSessionPolicy('b', ['ns-b', 'ns-a', 'ns-b']));
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'NamespaceObjects',
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:PutObject'],
          Resource: ['arn:aws:s3:::b/ns/ns-a/*', 'arn:aws:s3:::b/ns/ns-b/*'],
        },
      ],
    });
  });

  it('refuses to grant nothing, and a policy STS would reject as too long', () => {
    expect(() => storageSessionPolicy('b', [])).toThrow(/at least one namespace/);
    const many = Array.from(
      { length: 60 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    expect(() => storageSessionPolicy('filesync-blocks', many)).toThrow(String(MAX_SESSION_POLICY_CHARS));
  });
});

describe('storageSessionName', () => {
  it('names the user within the characters and length STS accepts', () => {
    expect(storageSessionName('0b7f3c9e-1f0e-4c55-9a43-5d2a1f6c7e11')).toBe(
      'filesync-0b7f3c9e-1f0e-4c55-9a43-5d2a1f6c7e11',
    );
    const odd = storageSessionName(`a b/c:${'x'.repeat(100)}`);
    expect(odd).toMatch(/^[A-Za-z0-9+=,.@_-]{2,64}$/);
    expect(odd.startsWith('filesync-a-b-c-')).toBe(true);
  });
});
