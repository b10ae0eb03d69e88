import { UnknownPaths } from './unknown-paths';

describe('kind 1: UnknownPaths covers a path and everything below it', () => {
  it('matches whole segments only', () => {
    const unknown = new UnknownPaths();
    unknown.add('private');
    unknown.add('a/b');
    expect(unknown.covers('private')).toBe(true);
    expect(unknown.covers('private/x/y.txt')).toBe(true);
    expect(unknown.covers('privateer.txt')).toBe(false);
    expect(unknown.covers('a/b/c')).toBe(true);
    expect(unknown.covers('a/bc')).toBe(false);
    expect(unknown.covers('a')).toBe(false);
    expect(unknown.list()).toEqual(['a/b', 'private']);
  });

  it('never covers the whole folder (a root that cannot be read stops the pass instead)', () => {
    const unknown = new UnknownPaths();
    unknown.add('');
    expect(unknown.size).toBe(0);
    expect(unknown.covers('a.txt')).toBe(false);
  });
});
