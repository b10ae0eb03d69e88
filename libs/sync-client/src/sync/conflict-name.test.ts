import {
  ConflictNameTooLongError,
  conflictCopyName,
  freeConflictCopyName,
  nameRoom,
  OS_MAX_PATH_BYTES,
} from './conflict-name';

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

describe('kind 5: conflict copy names fit in 255 bytes', () => {
  const at = new Date(2026, 0, 2, 3, 4, 5);
  const bytes = (name: string) => Buffer.byteLength(name, 'utf8');

  it('cuts a long stem and keeps the extension', () => {
    const long = `${'a'.repeat(240)}.txt`;
    const name = conflictCopyName(long, 'laptop', at);
    expect(bytes(name)).toBeLessThanOrEqual(255);
    expect(name).toMatch(/^a+ \(conflicted copy laptop 2026-01-02 030405\)\.txt$/);
    expect(bytes(conflictCopyName(long, 'laptop', at, 12))).toBeLessThanOrEqual(255);
  });

  it.each([
    ['a 215-byte name', `${'n'.repeat(211)}.pdf`],
    ['a 255-byte name', `${'n'.repeat(251)}.pdf`],
    ['emoji (surrogate pairs)', `${'🎉'.repeat(62)}.md`],
    ['combining sequences (NFD)', `${'e\u0301'.repeat(84)}.txt`],
    ['a long device name', 'notes.txt'],
  ])('%s: whole characters only, within the limit', (_name, fileName) => {
    const name = conflictCopyName(fileName, 'd'.repeat(300), at);
    expect(bytes(name)).toBeLessThanOrEqual(255);
    // Valid UTF-16 (no lone surrogate) and no combining mark left without its base letter.
    expect(name.isWellFormed()).toBe(true);
    expect(name).not.toMatch(/^\u0301|[^e]\u0301/u);
    expect(name.endsWith(fileName.slice(fileName.lastIndexOf('.')))).toBe(true);
  });

  it('treats a huge "extension" as part of the name', () => {
    const name = conflictCopyName(`a.${'x'.repeat(250)}`, 'pc', at);
    expect(bytes(name)).toBeLessThanOrEqual(255);
    expect(name).toMatch(/^a\.x+ \(conflicted copy pc 2026-01-02 030405\)$/);
  });

  it('gives a folder no extension', () => {
    expect(conflictCopyName('v1.2', 'pc', at, 1, { keepExtension: false })).toBe(
      'v1.2 (conflicted copy pc 2026-01-02 030405)',
    );
  });
});

describe('kind 5: conflicted copies fit the path limits, not just the name limit', () => {
  const at = new Date(2026, 0, 2, 3, 4, 5);
  const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

  it('the room for a name is bounded by the relative path limit and the OS path limit', () => {
    const deep = Array.from({ length: 20 }, () => 'f'.repeat(200)).join('/');
    expect(nameRoom('', '/home/me/Sync')).toBe(255);
    // The folder-relative path stays within LIMITS.maxPathBytes (the server's rule)...
    expect(nameRoom(deep, '/r')).toBe(4096 - bytes(deep) - 1);
    // ...and the absolute path within PATH_MAX less its NUL.
    const abs = `/home/me/Sync/${deep}`;
    expect(nameRoom(deep, abs)).toBe(OS_MAX_PATH_BYTES - bytes(abs) - 1);
  });

  it('a copy beside a 4,075-byte path is cut to fit, on a character boundary, keeping the extension', () => {
    const relativeFolder = Array.from({ length: 20 }, () => 'é'.repeat(100)).join('/');
    const folder = `/tmp/${relativeFolder}`;
    const fileName = `${'ü'.repeat(23)}.txt`;
    expect(bytes(`${folder}/${fileName}`)).toBe(4075);
    const name = conflictCopyName(fileName, 'laptop', at, 1, { maxBytes: nameRoom(relativeFolder, folder) });
    expect(bytes(`${folder}/${name}`)).toBeLessThanOrEqual(OS_MAX_PATH_BYTES);
    expect(name).toMatch(/^ü+ \(conflicted copy laptop 2026-01-02 030405\)\.txt$/);
    expect(name.isWellFormed()).toBe(true);
  });

  it('drops the device name when the stem would vanish, and says so when nothing fits', () => {
    expect(conflictCopyName('a.txt', 'laptop', at, 1, { maxBytes: 41 })).toBe(
      'a (conflicted copy 2026-01-02 030405).txt',
    );
    expect(() => conflictCopyName('a.txt', 'laptop', at, 1, { maxBytes: 36 })).toThrow(
      ConflictNameTooLongError,
    );
  });
});
