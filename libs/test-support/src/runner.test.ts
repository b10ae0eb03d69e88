import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunnerInfo, startRunner, stopRunner } from './runner';

// Real child processes (tiny Node scripts standing in for a stack runner), no network.

const SCRIPTS = {
  healthy: `
    const { writeFileSync } = require('node:fs');
    const { infoFile } = JSON.parse(process.argv[2]);
    process.stdin.resume();
    setTimeout(() => writeFileSync(infoFile, JSON.stringify({ pid: process.pid })), 100);`,
  failing: `
    const { writeFileSync } = require('node:fs');
    const { logFile } = JSON.parse(process.argv[2]);
    writeFileSync(logFile, 'starting\\nport already in use\\n');
    process.exit(3);`,
  silent: `process.stdin.resume();`,
};

describe('runner harness', () => {
  let dir: string;
  const options = (script: keyof typeof SCRIPTS, startupTimeoutMs = 10_000) => {
    const file = join(dir, `${script}.cjs`);
    writeFileSync(file, SCRIPTS[script]);
    const infoFile = join(dir, 'info.json');
    const logFile = join(dir, 'runner.log');
    return {
      label: `${script} stack`,
      script: file,
      request: { infoFile, logFile },
      infoFile,
      logs: logFile,
      failureLog: logFile,
      startupTimeoutMs,
    };
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'filesync-runner-'));
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves once the runner wrote its info file and stops it on teardown', async () => {
    const started = options('healthy');
    await startRunner(started);
    const { pid } = readRunnerInfo<{ pid: number }>(started.infoFile);
    expect(alive(pid)).toBe(true);

    await stopRunner(started.infoFile, { killAfterMs: 5_000 });

    expect(alive(pid)).toBe(false);
    expect(() => readRunnerInfo(started.infoFile)).toThrow();
  });

  it('quotes the end of the log when the runner exits before it is up', async () => {
    await expect(startRunner(options('failing'))).rejects.toThrow(
      /failing stack runner exited with code 3; the last lines of .*runner\.log:\nstarting\nport already in use/,
    );
  });

  it('gives up after the startup timeout and stops the runner', async () => {
    const started = options('silent', 300);
    await expect(startRunner(started)).rejects.toThrow(
      /silent stack did not come up within 0\.3 s.*\n\(no log\)/,
    );
    const runner = globalThis.filesyncRunners?.get(started.infoFile);
    await new Promise((resolve) =>
      runner?.exitCode === null ? runner.once('exit', resolve) : resolve(null),
    );
    expect(runner?.signalCode).toBe('SIGTERM');
  });

  it('has nothing to stop when no runner was started for the file', async () => {
    await expect(stopRunner(join(dir, 'never.json'), { killAfterMs: 1_000 })).resolves.toBeUndefined();
  });
});
