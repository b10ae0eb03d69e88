import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, StackAlreadyRunningError } from './lock';

describe('acquireLock', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lock-test-'));
    file = join(dir, 'state', 'stack.lock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('writes our pid and removes the file on release', () => {
    const release = acquireLock(file);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(file)).toBe(false);
  });

  test('refuses a lock held by a live process, naming it', () => {
    acquireLock(file);
    // The parent of this test process is alive for as long as we are.
    writeFileSync(file, `${process.ppid}\n`);
    expect(() => acquireLock(file)).toThrow(StackAlreadyRunningError);
    expect(() => acquireLock(file)).toThrow(`pid ${process.ppid}`);
  });

  test('takes over a lock left by a process that died', () => {
    acquireLock(file);
    writeFileSync(file, '2147483646\n');
    acquireLock(file);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
  });

  test('release leaves a lock another process took over alone', () => {
    const release = acquireLock(file);
    writeFileSync(file, `${process.ppid}\n`);
    release();
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.ppid));
  });
});
