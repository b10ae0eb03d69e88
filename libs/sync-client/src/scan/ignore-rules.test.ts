import { newTempName } from '../storage/temp-name';
import { ignoreRules } from './ignore-rules';

/** Unit tests of the .filesyncignore matcher (no file system). */
describe('ignoreRules', () => {
  const text = ['*.tmp', 'build/', '!build/keep.txt', 'logs/**/*.log', '!important.tmp'].join('\n');
  const expected = (path: string, directory: boolean): boolean => {
    if (directory) return path === 'build' || path.endsWith('/build');
    if (path.endsWith('important.tmp')) return false;
    if (path.endsWith('.tmp')) return true;
    return path.startsWith('logs/') && path.endsWith('.log');
  };

  it('answers the same for every path however many it was asked (its cache is bounded, not its rules)', () => {
    const rules = ignoreRules(text);
    const paths: [string, boolean][] = [];
    for (let i = 0; i < 25_000; i++) {
      const folder = `d${i % 37}`;
      paths.push([`${folder}/f${i}.tmp`, false], [`${folder}/f${i}.txt`, false]);
      if (i % 1000 === 0) paths.push(['build', true], [`${folder}/build`, true], ['important.tmp', false]);
      if (i % 500 === 0) paths.push([`logs/a/b${i}.log`, false], [`logs/b${i}.txt`, false]);
    }
    // Asked twice over, so the second round comes well after the matcher was replaced.
    for (let round = 0; round < 2; round++)
      for (const [path, directory] of paths)
        expect([path, rules.ignores(path, directory)]).toEqual([path, expected(path, directory)]);
  });

  it('ignores our own temp files, never a folder of that name', () => {
    const rules = ignoreRules('');
    const temp = newTempName();
    expect(rules.ignores(`a/${temp}`)).toBe(true);
    expect(rules.ignores(`a/${temp}`, true)).toBe(false);
    expect(rules.ignores('a/notes.txt')).toBe(false);
  });

  it('treats a file of comments and blank lines as no rules, and still honours any real rule', () => {
    const none = ignoreRules('# nothing here\n\n   \n#*.txt\n');
    expect(none.ignores('a/notes.txt')).toBe(false);
    expect(none.ignores('#x')).toBe(false);
    const escapedSpace = ignoreRules('# a file named one space\n\\ \n');
    expect(escapedSpace.ignores('a/ ')).toBe(true);
    expect(escapedSpace.ignores('a/b')).toBe(false);
    expect(ignoreRules('*.log').ignores('x.log')).toBe(true);
  });
});
