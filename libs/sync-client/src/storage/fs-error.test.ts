import { rename, stat } from 'node:fs/promises';
import { errorText } from './fs-error';

describe('kind 5: error messages name a long path once, not in every message', () => {
  it('drops the paths Node writes into a file-system error', async () => {
    const long = `/tmp/${'x'.repeat(300)}`;
    const renamed = await rename(long, `${long}-copy`).catch((error: unknown) => error);
    expect(errorText(renamed)).toBe('ENAMETOOLONG: name too long, rename');
    const missing = await stat('/nonexistent-filesync-path').catch((error: unknown) => error);
    expect(errorText(missing)).toBe('ENOENT: no such file or directory, stat');
  });

  it('leaves other messages as they are', () => {
    expect(errorText(new Error('refused by the server: quota'))).toBe('refused by the server: quota');
    expect(errorText('plain')).toBe('plain');
  });
});
