import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareHome } from '../session/home';
import { CommanderError } from 'commander';
import { emptySummary, MassDeleteError, SyncIncompleteError } from '../sync/summary';
import { InvalidServerError } from '../config/server-addresses';
import { SyncFolderMissingError, SyncFolderUnreadableError } from '../sync/sync-root';
import { DeviceChoiceError, HomeUnusableError, NotSignedInError } from '../session/errors';
import { SyncBusyError } from '../sync/sync-busy-error';
import {
  errorReport,
  EXIT,
  EXIT_CODES_HELP,
  exitCodeForError,
  exitCodeForServerCheck,
  exitCodeForSummary,
} from './exit-codes';
import { InterruptedError } from './interrupt';

describe('kinds 2 and 5: the exit code tells a complete pass from an incomplete or stopped one', () => {
  it('is 0 only when nothing was skipped or failed', () => {
    expect(exitCodeForSummary(emptySummary())).toBe(EXIT.success);
    const skipped = { ...emptySummary(), skipped: [{ path: 'a\\b', reason: 'backslash' }] };
    expect(exitCodeForSummary(skipped)).toBe(EXIT.incomplete);
    const failed = { ...emptySummary(), failed: [{ path: 'x', reason: 'refused' }] };
    expect(exitCodeForSummary(failed)).toBe(EXIT.incomplete);
  });

  it('has a code of its own for each way a pass ends early', () => {
    expect(
      exitCodeForError(new MassDeleteError(emptySummary(), { local: ['a'], remote: [] }, 1, false)),
    ).toBe(4);
    expect(exitCodeForError(new SyncIncompleteError(emptySummary(), [{ path: 'x', reason: 'r' }]))).toBe(3);
    expect(exitCodeForError(new Error('server unreachable'))).toBe(1);
    expect(exitCodeForError(new CommanderError(1, 'commander.unknownOption', 'unknown option'))).toBe(2);
    expect(exitCodeForError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(0);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.keys(EXIT).length);
  });
});

describe('kinds 1 and 2: every error of the CLI has the right exit code and a JSON report', () => {
  it('a synced folder replaced by a file is a missing folder (5), a malformed --server a usage error (2)', () => {
    const replaced = new SyncFolderMissingError('A', undefined, true);
    expect(exitCodeForError(replaced)).toBe(EXIT.missingFolder);
    expect(exitCodeForError(new InvalidServerError('invalid --server "bad host:x"'))).toBe(EXIT.usage);
  });

  it('names each kind of error for scripts, with its message and exit code', () => {
    expect(errorReport(new SyncFolderMissingError('A', undefined), 'gone')).toEqual({
      error: { code: 'missing-folder', message: 'gone', exitCode: 5 },
    });
    expect(errorReport(new CommanderError(1, 'commander.unknownOption', 'x'), 'x').error).toMatchObject({
      code: 'usage',
      exitCode: 2,
    });
    expect(errorReport(new InvalidServerError('bad'), 'bad').error).toMatchObject({
      code: 'invalid-server',
      exitCode: 2,
    });
    const denied = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    expect(errorReport(new SyncFolderUnreadableError('A', denied), 'm').error).toMatchObject({
      code: 'unreadable-folder',
      exitCode: 1,
    });
    expect(errorReport(new Error('unreachable'), 'unreachable').error).toMatchObject({
      code: 'error',
      exitCode: 1,
    });
    const stopped = new MassDeleteError(emptySummary(), { local: [], remote: ['a'] }, 1, false);
    expect(errorReport(stopped, stopped.message).error).toMatchObject({ code: 'mass-delete', exitCode: 4 });
  });
});

describe('issue 9: every way a command ends has its own exit code', () => {
  const grpcError = (code: number, details: string) =>
    Object.assign(new Error(`${code} X: ${details}`), { code, details });

  it('tells sign-in needed, unreachable, busy and interrupted apart, and keeps the released numbers', () => {
    expect(EXIT).toMatchObject({
      success: 0,
      error: 1,
      usage: 2,
      incomplete: 3,
      massDelete: 4,
      missingFolder: 5,
    });
    expect(exitCodeForError(new NotSignedInError())).toBe(EXIT.authRequired);
    expect(exitCodeForError(grpcError(16, 'refresh token is not valid: sign in again'))).toBe(
      EXIT.authRequired,
    );
    expect(
      exitCodeForError(grpcError(14, 'No connection established. Last error: connect ECONNREFUSED')),
    ).toBe(EXIT.unreachable);
    expect(exitCodeForError(grpcError(4, 'Deadline exceeded after 15.001s,LB pick: 0.001s'))).toBe(
      EXIT.unreachable,
    );
    // A deadline after the connection was made is the call's, not the network's.
    expect(exitCodeForError(grpcError(4, 'Deadline exceeded after 15s,remote_addr=127.0.0.1:50052'))).toBe(
      EXIT.error,
    );
    expect(exitCodeForError(grpcError(9, 'version expired'))).toBe(EXIT.error);
    expect(exitCodeForError(new SyncBusyError(4242))).toBe(EXIT.busy);
    expect(exitCodeForError(new InterruptedError('SIGINT', ''))).toBe(130);
    expect(exitCodeForError(new InterruptedError('SIGTERM', ''))).toBe(143);
    expect(exitCodeForError(new DeviceChoiceError('no such device'))).toBe(EXIT.usage);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.keys(EXIT).length);
  });

  it('names each in --json reports, and lists every code in --help', () => {
    expect(errorReport(new NotSignedInError(), 'm').error.code).toBe('auth-required');
    expect(errorReport(new SyncBusyError(1), 'm').error).toMatchObject({ code: 'busy', exitCode: 8 });
    expect(errorReport(grpcError(14, 'x'), 'm').error).toMatchObject({ code: 'unreachable', exitCode: 7 });
    expect(errorReport(new InterruptedError('SIGINT', ''), 'm').error).toMatchObject({
      code: 'interrupted',
      exitCode: 130,
    });
    expect(errorReport(new InterruptedError('SIGTERM', ''), 'm').error).toMatchObject({
      code: 'interrupted',
      exitCode: 143,
    });
    for (const code of Object.values(EXIT))
      expect(EXIT_CODES_HELP).toMatch(new RegExp(`(^|\\s)${code}\\s`, 'm'));
  });

  it('plaintext to a loopback TLS server is a configuration error (1), not an unreachable server (7)', () => {
    const loopback = { insecure: false, plaintextLoopback: '127.0.0.1:50051' };
    const closed = grpcError(
      14,
      'No connection established. Last error: Failed to connect (2026-11-30T17:14:15.171Z). Resolution note: ',
    );
    expect(exitCodeForError(closed, loopback)).toBe(EXIT.error);
    expect(errorReport(closed, 'm', loopback).error).toMatchObject({ code: 'error', exitCode: 1 });
    const refused = grpcError(
      14,
      'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50051',
    );
    expect(exitCodeForError(refused, loopback)).toBe(EXIT.unreachable);
  });
});

describe('D4: `filesync status` exits as a command failing for the same cause would', () => {
  it('7 for an unreachable server, 6 for a refused session, 1 for TLS to fix, 0 when fine or offline', () => {
    expect(exitCodeForServerCheck({ reachable: false, sessionValid: false })).toBe(EXIT.unreachable);
    expect(exitCodeForServerCheck({ reachable: false, sessionValid: false, tlsFailure: true })).toBe(
      EXIT.error,
    );
    expect(exitCodeForServerCheck({ reachable: true, sessionValid: false })).toBe(EXIT.authRequired);
    expect(exitCodeForServerCheck({ reachable: true, sessionValid: true })).toBe(EXIT.success);
    expect(exitCodeForServerCheck(undefined)).toBe(EXIT.success);
  });
});

describe('D5, D6: a home that cannot be used fails at once, saying why and what to do (exit 2)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'filesync-home-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a home under /proc ends within a second (Node's recursive mkdir looped on its ENOENT)", async () => {
    const started = Date.now();
    const error = await prepareHome('/proc/filesync-home/sub').catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(HomeUnusableError);
    expect(exitCodeForError(error)).toBe(EXIT.usage);
    expect((error as Error).message).toMatch(
      /^cannot use \/proc\/filesync-home\/sub as the filesync home, .*: no folder can be made at \/proc\/filesync-home \(\/proc does not allow it\) \(ENOENT\)\. Choose another folder with --home DIR or FILESYNC_HOME$/,
    );
    expect(errorReport(error, 'm').error).toMatchObject({ code: 'usage', exitCode: 2 });
  });

  it('a file in the way, or a folder this user may not write, names the path and what to do', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    for (const home of [file, join(file, 'home')]) {
      const error = await prepareHome(home).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(HomeUnusableError);
      expect((error as Error).message).toContain(`cannot use ${home} as the filesync home`);
      expect((error as Error).message).toContain(`${file} is a file, not a folder`);
      expect((error as Error).message).toContain('Choose another folder with --home DIR or FILESYNC_HOME');
    }
    const denied = Object.assign(new Error("EACCES: permission denied, mkdir '/root/hh'"), {
      code: 'EACCES',
      path: '/root/hh',
    });
    expect(new HomeUnusableError('/root/hh', denied).message).toBe(
      "cannot use /root/hh as the filesync home, where this device's session and sync state live: " +
        'permission denied on /root/hh (EACCES). Choose another folder with --home DIR or FILESYNC_HOME, ' +
        'or give this user permission to write there',
    );
    // Missing parents are made, as before.
    await prepareHome(join(dir, 'a', 'b', 'home'));
    expect(statSync(join(dir, 'a', 'b', 'home')).mode & 0o777).toBe(0o700);
  });
});
