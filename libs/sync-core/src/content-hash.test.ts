import { blockHash, contentHash, isBlockHash } from './content-hash';

describe('content hash', () => {
  it('hashes the empty file as SHA-256 of zero bytes', () => {
    expect(contentHash([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('depends on block order', () => {
    const a = blockHash(Buffer.from('a'));
    const b = blockHash(Buffer.from('b'));
    expect(contentHash([a, b])).not.toBe(contentHash([b, a]));
    expect(isBlockHash(a)).toBe(true);
    expect(isBlockHash('XYZ')).toBe(false);
  });
});
