import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionStore } from '../session/session-store';
import { StateDb } from '../state/state-db';
import { describeFailure, storedFailureText } from '../failure-text';
import { EXIT } from './exit-codes';
import { main } from './main';
import { serverAddresses } from '../config/server-addresses';
import { transportContext } from '../config/tls-errors';
import { emptySummary } from '../sync/summary';
import { NotSignedInError } from '../session/errors';
import { SyncBusyError } from '../sync/sync-busy-error';
import { describeError } from './error-messages';
import { cliLogger, humanLogLine, logLevel } from './logging';
import { summaryLines, unlinkedLine } from './sync-output';
import { conflictLines, deviceLines, unfollowLine } from './account-commands';
import {
  formatBytes,
  formatDuration,
  ProgressDisplay,
  progressLine,
  progressReport,
} from './progress-display';
import { parseConflictCopyName, conflictCopyName } from '../sync/conflict-name';

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} X: ${details}`), { code, details });

/** A signed-in session in `home` for `server`, valid for an hour (no server is asked to make it). */
function saveSession(home: string, server: string): Promise<void> {
  return new SessionStore(home).save({
    server,
    email: 'me@example.com',
    userId: 'user-1',
    deviceId: 'device-1',
    deviceName: 'laptop',
    rootNamespaceId: 'ns-1',
    accessToken: 'token',
    accessTokenExpiresAtMs: Date.now() + 3_600_000,
    refreshToken: 'refresh',
    refreshTokenExpiresAtMs: Date.now() + 3_600_000,
  });
}
describe('issue 9: every error a user can meet says what to do, in one line', () => {
  const context = { server: 'files.example.com:50051', command: 'sync', email: 'me@example.com' };

  it('an unreachable server names the address the user gave, not a service port, and what to check', async () => {
    const refused = grpcError(
      14,
      'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:50053 (nested: Error: ...)',
    );
    const message = await describeError(refused, context);
    expect(message).toBe(
      'cannot reach the filesync server at files.example.com:50051 (connection refused): check the address ' +
        '(--server or FILESYNC_SERVER), that the server is running and that this device is online',
    );
    expect(message).not.toContain('50053');
    expect(
      await describeError(grpcError(14, 'Name resolution failed for target dns:nope.invalid:50052'), context),
    ).toContain('(the name does not resolve)');
    expect(await describeError(grpcError(4, 'Deadline exceeded after 15s,LB pick: 0s'), context)).toContain(
      '(no answer in time)',
    );
  });

  it('plaintext to a loopback TLS server says to use grpcs:// or --tls, also with --insecure (which loopback ignores)', async () => {
    const closed = grpcError(
      14,
      'No connection established. Last error: Failed to connect (2026-11-30T17:14:15.171Z). Resolution note: ',
    );
    for (const insecure of [false, true]) {
      const transport = transportContext(serverAddresses('127.0.0.1:50051', { insecure }));
      expect(await describeError(closed, { ...context, server: '127.0.0.1:50051', transport })).toBe(
        'the server at 127.0.0.1:50051 closed the connection before gRPC began, as a TLS server does: use grpcs://127.0.0.1:50051 or --tls (or, if it is no TLS server, check what listens there)',
      );
    }
  });

  it('an ended session says how to sign in again; a wrong password at login says to check it', async () => {
    expect(await describeError(grpcError(16, 'refresh token expired: sign in again'), context)).toBe(
      'your session on this device has ended (refresh token expired: sign in again): sign in again with ' +
        '`filesync login --email me@example.com`',
    );
    expect(
      await describeError(grpcError(16, 'email or password is wrong'), { ...context, command: 'login' }),
    ).toBe('email or password is wrong: check the email address and password and try again');
    expect(await describeError(new NotSignedInError(), context)).toContain('filesync login --email');
  });

  it('a held lock names its pid and what to do; a server failure says to try again', async () => {
    expect(await describeError(new SyncBusyError(4242), context)).toMatch(
      /pid 4242\): wait for it to finish/,
    );
    expect(await describeError(grpcError(13, 'boom'), context)).toMatch(
      /^the server failed \(boom\): try again/,
    );
  });

  it('D9c: a device removed by another device is told so, and to log in again', async () => {
    for (const details of [
      'this device has logged out: sign in again',
      'this device was removed from the account: sign in again',
    ]) {
      const message = await describeError(grpcError(16, details), context);
      expect(message).toBe(
        'this device was removed from your account (by another device, with `filesync devices remove`), ' +
          'so its session ended: to sync here again, sign in with `filesync login --email me@example.com`',
      );
      expect(message).not.toContain('logged out');
    }
  });

  it("D8: a refusal is the server's message, without its gRPC status name", async () => {
    const refusals: [number, string][] = [
      [9, 'version 2 of plan.md has expired: older versions are kept for 30 days'],
      [6, 'an account with this email already exists: log in instead'],
      [3, "path must not contain '..' segments"],
      [5, 'no such device in your account: `filesync devices` lists them'],
    ];
    for (const [code, details] of refusals) {
      const message = await describeError(grpcError(code, details), context);
      expect(message).toBe(details);
      expect(message).not.toMatch(/^[A-Z_]+: /);
    }
  });
});

describe('issue 9: progress like rclone -P', () => {
  it('shows done of total, percent, rate and time left for bytes; a count for a phase without a total', () => {
    const state = { phase: 'uploading' as const, unit: 'bytes' as const, startedAtMs: 0 };
    expect(progressLine({ ...state, done: 32 * 1048576, total: 128 * 1048576 }, 4000)).toBe(
      'Uploading   32.0 MiB / 128 MiB, 25%, 8.0 MiB/s, ETA 12s',
    );
    expect(progressLine({ ...state, done: 128 * 1048576, total: 128 * 1048576 }, 16000)).toBe(
      'Uploading   128 MiB / 128 MiB, 100%, 8.0 MiB/s, 16s',
    );
    expect(
      progressLine({ phase: 'scanning', unit: 'files', done: 1200, total: 0, startedAtMs: 0 }, 3000),
    ).toBe('Scanning    1200 files, 3s');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1.5 * 1073741824)).toBe('1.5 GiB');
    expect(formatDuration(3723_000)).toBe('1h02m');
  });

  it('says what a stopped pass had done and what was left', () => {
    const report = progressReport(
      [{ phase: 'scanning', unit: 'files', done: 40, total: 0, startedAtMs: 0 }],
      { phase: 'uploading', unit: 'bytes', done: 16 * 1048576, total: 64 * 1048576, startedAtMs: 0 },
    );
    expect(report).toBe(
      'scanning done (40 files); stopped while uploading: 16.0 MiB of 64.0 MiB, 48.0 MiB left',
    );
  });
});

describe('issue 9: logs for people on a terminal, JSON lines otherwise', () => {
  it('turns a pino line into a short human one', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 2, 3, 4, 5),
      pid: 1,
      hostname: 'h',
      name: 'filesync',
      msg: 'kept a copy',
      path: 'a.txt',
    });
    expect(humanLogLine(line)).toMatch(/^\d\d:\d\d:\d\d WARN kept a copy path="a.txt"\n$/);
    expect(humanLogLine('not json')).toBe('not json\n');
  });

  it('-v is info, -vv debug, otherwise FILESYNC_LOG_LEVEL or warn', () => {
    expect(logLevel({ verbose: 0 }, {})).toBe('warn');
    expect(logLevel({ verbose: 0 }, { FILESYNC_LOG_LEVEL: 'error' })).toBe('error');
    expect(logLevel({ verbose: 1 }, { FILESYNC_LOG_LEVEL: 'error' })).toBe('info');
    expect(logLevel({ verbose: 3 }, {})).toBe('debug');
  });
});

describe('issue 9: conflicted copies are read back from their names', () => {
  it('gives the original name, the device and when, for every name conflictCopyName makes', () => {
    const at = new Date(2026, 0, 2, 3, 4, 5);
    expect(parseConflictCopyName(conflictCopyName('report.txt', 'my laptop', at))).toEqual({
      original: 'report.txt',
      device: 'my laptop',
      madeAt: '2026-01-02 030405',
    });
    expect(parseConflictCopyName(conflictCopyName('.bashrc', 'desk', at, 3))?.original).toBe('.bashrc');
    expect(
      parseConflictCopyName(conflictCopyName('plan', 'desk', at, 1, { keepExtension: false }))?.original,
    ).toBe('plan');
    expect(parseConflictCopyName('report.txt')).toBeUndefined();
  });
});

describe('issue 9: the progress display gives the terminal back', () => {
  it('draws one line per phase, keeps the finished ones, and restores the cursor and line wrap', () => {
    let out = '';
    const stream = {
      columns: 100,
      write: (text: string) => ((out += text), true),
    } as unknown as NodeJS.WriteStream;
    let now = 0;
    const display = new ProgressDisplay(stream, () => now);
    display.update({ phase: 'scanning', done: 3, total: 0, unit: 'files' });
    now = 2000;
    display.update({ phase: 'uploading', done: 0, total: 4 * 1048576, unit: 'bytes' });
    now = 4000;
    display.update({ phase: 'uploading', done: 1048576, total: 4 * 1048576, unit: 'bytes' });
    expect(display.report()).toBe(
      'scanning done (3 files); stopped while uploading: 1.0 MiB of 4.0 MiB, 3.0 MiB left',
    );
    display.stop();
    expect(out.startsWith('\x1b[?25l\x1b[?7l')).toBe(true);
    expect(out.endsWith('\x1b[?7h\x1b[?25h')).toBe(true);
    // The scanning line stays above the uploading one.
    expect(out).toContain('Scanning    3 files, 2s\n');
    expect(out).toContain('Uploading   1.0 MiB / 4.0 MiB, 25%, 512 KiB/s, ETA 6s');
  });
});

describe('issue 9: the progress line is drawn at most ten times a second', () => {
  it('also while scanning, whose total is unknown (0)', () => {
    let writes = 0;
    const stream = { columns: 80, write: () => (writes++, true) } as unknown as NodeJS.WriteStream;
    let now = 0;
    const display = new ProgressDisplay(stream, () => now);
    display.update({ phase: 'scanning', done: 0, total: 0, unit: 'files' });
    const first = writes;
    // 1,000 files hashed within 50 ms: no redraw before 100 ms have passed.
    for (let done = 1; done <= 1000; done++) {
      now = done / 20;
      display.update({ phase: 'scanning', done, total: 0, unit: 'files' });
    }
    expect(writes).toBe(first);
    now = 150;
    display.update({ phase: 'scanning', done: 1001, total: 0, unit: 'files' });
    expect(writes).toBe(first + 1);
  });
});

describe('issue 9: counts read right for one', () => {
  it('says "1 file", "1 block", "1 conflict", "1 file was synced", "1 conflicted copy"', () => {
    const summary = {
      ...emptySummary(),
      filesUploaded: 1,
      uploadedBlocks: 1,
      filesDownloaded: 2,
      downloadedBlocks: 2,
      conflicts: 1,
    };
    expect(summaryLines(summary)[0]).toBe(
      'Uploaded 1 file (1 block, 0.0 MiB), downloaded 2 files (2 blocks, 0.0 MiB), 0 deleted, 1 conflict.',
    );
    const folder = {
      root: '/home/me/docs',
      namespaceId: 'ns',
      remotePath: 'Docs',
      cursor: 0,
      lastSyncAtMs: 0,
      lastFullAtMs: 0,
      rulesHash: '',
      watcherPid: 0,
      lastPassAtMs: 0,
      lastPassOutcome: '' as const,
      lastError: '',
    };
    expect(unlinkedLine({ ...folder, files: 1 })).toBe(
      'Unlinked /home/me/docs from /Docs (1 file was synced); no file was changed.',
    );
    expect(unlinkedLine({ ...folder, files: 3 })).toContain('(3 files were synced)');
    const copy = {
      root: '/r',
      path: 'a (conflict).txt',
      absPath: '/r/a',
      original: 'a.txt',
      device: 'd',
      madeAt: 'x',
    };
    expect(conflictLines([copy]).at(-1)).toMatch(/^1 conflicted copy:/);
    expect(progressLine({ phase: 'scanning', unit: 'files', done: 1, total: 0, startedAtMs: 0 }, 0)).toBe(
      'Scanning    1 file, 0s',
    );
    expect(
      progressReport([{ phase: 'scanning', unit: 'files', done: 1, total: 0, startedAtMs: 0 }], undefined),
    ).toBe('scanning done (1 file)');
  });
});

describe('D4: status with the server down says it in one human line and exits 7', () => {
  let home: string;
  let server: string;
  let out: string;
  let err: string;
  const writes: jest.SpyInstance[] = [];
  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'filesync-status-'));
    // A loopback port nobody listens on: connections to it are refused.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    server = `127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((done) => probe.close(done));
    await saveSession(home, server);
    const state = StateDb.open(join(home, 'state.db'));
    const root = mkdtempSync(join(tmpdir(), 'filesync-status-root-'));
    state.bindFolder(root, 'ns-1');
    // What an older client stored: grpc-js's raw text, naming an internal service port.
    state.recordPass(root, {
      atMs: 1,
      outcome: 'failed',
      error:
        '14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:50653. Resolution note: ',
    });
    state.close();
    out = '';
    err = '';
    writes.push(
      jest.spyOn(process.stdout, 'write').mockImplementation((text) => ((out += String(text)), true)),
      jest.spyOn(process.stderr, 'write').mockImplementation((text) => ((err += String(text)), true)),
    );
  });
  afterEach(() => {
    for (const spy of writes.splice(0)) spy.mockRestore();
    rmSync(home, { recursive: true, force: true });
  });

  it('names the address given and what to check, never grpc-js text or a service port, stored errors included', async () => {
    const code = await main(['node', 'filesync', '--home', home, 'status']);
    expect(code).toBe(EXIT.unreachable);
    const reach =
      `cannot reach the filesync server at ${server} (connection refused): check the address ` +
      '(--server or FILESYNC_SERVER), that the server is running and that this device is online';
    expect(out).toContain(`Server ${server}, namespace ns-1: ${reach}\n`);
    expect(out).toContain(
      'last error: cannot reach the filesync server at ' +
        `${server} (connection refused): check the address`,
    );
    expect(out + err).not.toMatch(/UNAVAILABLE|round_robin|No connection established|Resolution note|50653/);
  });

  it('names the server it checked (--server), not the one the session was made with', async () => {
    expect(await main(['node', 'filesync', '--home', home, '--server', '127.0.0.1:9', 'status'])).toBe(
      EXIT.unreachable,
    );
    expect(out).toContain(
      'Server 127.0.0.1:9, namespace ns-1: cannot reach the filesync server at 127.0.0.1:9 (',
    );
  });

  it('--json carries the same line', async () => {
    const code = await main(['node', 'filesync', '--home', home, 'status', '--json']);
    expect(code).toBe(EXIT.unreachable);
    const status = JSON.parse(out) as {
      serverCheck: { error: string };
      syncedFolders: { lastError: string }[];
    };
    expect(status.serverCheck.error).toMatch(
      /^cannot reach the filesync server at 127\.0\.0\.1:\d+ \(connection refused\)/,
    );
    expect(status.syncedFolders[0]!.lastError).not.toContain('UNAVAILABLE');
  });

  it('a pass that fails stores the human line, not grpc-js text', () => {
    const failure = grpcError(
      14,
      'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50653',
    );
    const text = describeFailure(failure, { server: '127.0.0.1:50051' });
    expect(text).toMatch(/^cannot reach the filesync server at 127\.0\.0\.1:50051 \(connection refused\)/);
    expect(storedFailureText(`14 UNAVAILABLE: ${failure.details}`, { server: '127.0.0.1:50051' })).toBe(text);
    expect(storedFailureText('the synced folder is missing', { server: 's' })).toBe(
      'the synced folder is missing',
    );
  });
});

describe('D10: the devices list is in columns', () => {
  it('pads each column to its widest cell, so "signed in" and "last seen" line up', () => {
    const at = Date.UTC(2026, 0, 2, 3, 4);
    const lines = deviceLines([
      { deviceId: 'a'.repeat(36), name: 'laptop', createdAtMs: at, lastSeenAtMs: at, current: true },
      { deviceId: 'b'.repeat(36), name: 'my old desktop', createdAtMs: at, lastSeenAtMs: 0, current: false },
      { deviceId: 'c'.repeat(36), name: 'tab', createdAtMs: at, lastSeenAtMs: at + 60_000, current: false },
    ]);
    expect(lines).toEqual([
      `* laptop          ${'a'.repeat(36)}  signed in 2026-01-02 03:04  last seen 2026-01-02 03:04  (this device)`,
      `  my old desktop  ${'b'.repeat(36)}  signed in 2026-01-02 03:04`,
      `  tab             ${'c'.repeat(36)}  signed in 2026-01-02 03:04  last seen 2026-01-02 03:05`,
    ]);
  });
});

describe('D9b: unfollow of a path that was not followed says so', () => {
  it('"No longer following" only when it was followed', () => {
    expect(unfollowLine('docs', true)).toBe('No longer following docs.');
    expect(unfollowLine('', true)).toBe('No longer following everything.');
    expect(unfollowLine('nothere', false)).toBe(
      'You were not following nothere; nothing changed (`filesync following` lists what you follow).',
    );
  });
});

describe('D10: a log line never lands on the progress line; a usage error is one line and a hint', () => {
  it('clears the progress line before a log line and draws it again after', () => {
    let out = '';
    const stream = {
      columns: 80,
      write: (text: string) => ((out += text), true),
    } as unknown as NodeJS.WriteStream;
    const display = new ProgressDisplay(stream, () => 0);
    display.update({ phase: 'downloading', done: 0, total: 10, unit: 'bytes' });
    out = '';
    display.interleave(() => (out += 'LOG\n'));
    expect(out).toBe('\r\x1b[2KLOG\n\r\x1b[2KDownloading 0 B / 10 B, 0%');
    display.stop();
    out = '';
    display.interleave(() => (out += 'LOG\n'));
    expect(out).toBe('LOG\n');
  });

  it('the terminal logger writes each human line through onTerminal', () => {
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const seen: string[] = [];
    try {
      const logger = cliLogger({
        verbose: 2,
        onTerminal: (inner) => {
          seen.push('before');
          inner();
          seen.push('after');
        },
      });
      logger.debug('a line');
      expect(seen).toEqual(['before', 'after']);
      expect(String(write.mock.calls[0]![0])).toMatch(/ DEBUG a line\n$/);
    } finally {
      write.mockRestore();
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  });

  it('a usage error prints the error and one hint line, not the whole help (exit 2)', async () => {
    let err = '';
    const spies = [
      jest.spyOn(process.stderr, 'write').mockImplementation((text) => ((err += String(text)), true)),
      jest.spyOn(process.stdout, 'write').mockImplementation(() => true),
    ];
    try {
      expect(await main(['node', 'filesync', 'sync'])).toBe(EXIT.usage);
      expect(err).toBe(
        "error: missing required argument 'dir'\n(`filesync sync --help` lists its arguments and options)\n",
      );
      err = '';
      expect(await main(['node', 'filesync', '--zzz'])).toBe(EXIT.usage);
      expect(err).toBe(
        "error: unknown option '--zzz'\n(`filesync --help` lists the commands and options; `filesync COMMAND --help` one command's)\n",
      );
      err = '';
      expect(await main(['node', 'filesync', 'devices', 'remove'])).toBe(EXIT.usage);
      expect(err).toMatch(/\n\(`filesync devices remove --help` lists its arguments and options\)\n$/);
      err = '';
      expect(await main(['node', 'filesync', 'sync', 'd', '--watch', '--dry-run'])).toBe(EXIT.usage);
      expect(err).toBe(
        'filesync: --dry-run is one pass that changes nothing: it cannot be used with --watch\n' +
          '(`filesync sync --help` lists its arguments and options)\n',
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('D11: a path the path rules refuse is a usage error that says what a right one looks like', () => {
  let home: string;
  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'filesync-follow-'));
    // No server is asked: the path is refused before (the session's server does not exist).
    await saveSession(home, '127.0.0.1:1');
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('`follow ../../etc` exits 2 with the rule it breaks and the paths it takes', async () => {
    let err = '';
    const spies = [
      jest.spyOn(process.stderr, 'write').mockImplementation((text) => ((err += String(text)), true)),
      jest.spyOn(process.stdout, 'write').mockImplementation(() => true),
    ];
    try {
      for (const command of ['follow', 'unfollow', 'trash']) {
        err = '';
        expect(await main(['node', 'filesync', '--home', home, command, '../../etc'])).toBe(EXIT.usage);
        expect(err).toBe(
          "filesync: ../../etc is not inside a synced folder, and not a path of your filesync folder (path must not contain '..' segments): " +
            'give a path inside a synced folder, or a path of your filesync folder from its top, such as docs/report.txt ' +
            'or /docs/report.txt (as `filesync trash`, `filesync following` and `filesync status` show them)\n' +
            `(\`filesync ${command} --help\` lists its arguments and options)\n`,
        );
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});
