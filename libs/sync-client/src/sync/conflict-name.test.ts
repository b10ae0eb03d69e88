import { conflictCopyName, freeConflictCopyName } from './conflict-name';

describe('conflict copy names', () => {
  const at = new Date(2026, 0, 2, 3, 4, 5);

  it('puts device and local time before the extension', () => {
    expect(conflictCopyName('report.txt', 'laptop', at)).toBe(
      'report (conflicted copy laptop 2026-01-02 030405).txt',
    );
    expect(conflictCopyName('archive.tar.gz', 'laptop', at)).toBe(
      'archive.tar (conflicted copy laptop 2026-01-02 030405).gz',
    );
  });

  it('treats a leading dot as part of the name, not an extension', () => {
    expect(conflictCopyName('.bashrc', 'pc', at)).toBe('.bashrc (conflicted copy pc 2026-01-02 030405)');
    expect(conflictCopyName('Makefile', 'pc', at)).toBe('Makefile (conflicted copy pc 2026-01-02 030405)');
  });

  it('keeps slashes and control characters of a device name out of the file name', () => {
    expect(conflictCopyName('a.md', 'my/pc\n', at)).toBe('a (conflicted copy my_pc_ 2026-01-02 030405).md');
  });

  it('numbers the copy when the name is taken', async () => {
    const taken = new Set(['a (conflicted copy pc 2026-01-02 030405).md']);
    expect(await freeConflictCopyName(async (name) => taken.has(name), 'a.md', 'pc', at)).toBe(
      'a (conflicted copy pc 2026-01-02 030405 2).md',
    );
  });
});
