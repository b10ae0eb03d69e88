import type { ClientStatus } from '../client';
import { emptySummary } from '../sync/summary';
import { statusLines } from './status-output';
import { watchEventLine } from './watch-output';
import { describeFailure } from '../failure-text';

describe('watch lines', () => {
  it('tells passes that changed something, and is silent for the rest', () => {
    const summary = { ...emptySummary(), filesUploaded: 2, deleted: 1 };
    expect(watchEventLine({ kind: 'pass', reasons: ['local'], summary, ms: 84 }, 'docs')).toMatch(
      /^\d\d:\d\d:\d\d 2 uploaded, 1 deleted \(84 ms\)$/,
    );
    expect(
      watchEventLine({ kind: 'pass', reasons: ['remote'], summary: emptySummary(), ms: 3 }, 'docs'),
    ).toBeUndefined();
  });

  it('says what failed and what happens next', () => {
    const error = new Error('connect ECONNREFUSED');
    expect(
      watchEventLine({ kind: 'pass-failed', reasons: ['local'], error, retrying: true }, 'docs'),
    ).toMatch(/sync failed: connect ECONNREFUSED; retrying$/);
    expect(watchEventLine({ kind: 'server', mode: 'push', connected: false, error }, 'docs')).toMatch(
      /connection to the server lost: connect ECONNREFUSED; reconnecting$/,
    );
    expect(watchEventLine({ kind: 'server', mode: 'poll', connected: true }, 'docs')).toMatch(
      /does not push changes/,
    );
  });

  it('says gRPC failures as every command does, never grpc-js text or a service port (D4)', () => {
    const error = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: 14,
      details: 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50053',
    });
    const describe = (failure: unknown) => describeFailure(failure, { server: 'files.example.com:50051' });
    const lines = [
      watchEventLine({ kind: 'pass-failed', reasons: ['local'], error, retrying: true }, 'docs', describe),
      watchEventLine({ kind: 'server', mode: 'push', connected: false, error }, 'docs', describe),
    ];
    for (const line of lines) {
      expect(line).toContain(
        'cannot reach the filesync server at files.example.com:50051 (connection refused)',
      );
      expect(line).not.toMatch(/UNAVAILABLE|50053|No connection established/);
    }
  });
});

describe('status lines', () => {
  const base: ClientStatus = {
    email: 'me@example.com',
    userId: 'u1',
    deviceId: 'd1',
    deviceName: 'laptop',
    namespaceId: 'ns',
    server: '127.0.0.1:50051',
    home: '/home/me/.filesync',
    accessTokenExpiresAtMs: 0,
    refreshTokenExpiresAtMs: 0,
    syncedFolders: [
      {
        root: '/home/me/docs',
        namespaceId: 'ns',
        cursor: 4,
        lastSyncAtMs: 1_000,
        lastFullAtMs: 1_000,
        rulesHash: '',
        files: 12,
        watcherPid: 4242,
        remotePath: '',
        lastPassAtMs: 2_000,
        lastPassOutcome: 'failed',
        lastError: 'UNAVAILABLE: no connection',
        watching: true,
        pendingLocalChanges: 3,
        missing: false,
      },
    ],
    serverCheck: {
      reachable: false,
      sessionValid: false,
      ms: 5_000,
      error: 'cannot reach the filesync server at 127.0.0.1:50051 (no answer in time): check the address',
    },
  };

  it('shows per folder: watching, last pass, pending local changes, last error; and an unreachable server', () => {
    const text = statusLines(base).join('\n');
    expect(text).toContain(
      'namespace ns: cannot reach the filesync server at 127.0.0.1:50051 (no answer in time): check the address',
    );
    expect(text).toContain('watching (pid 4242), 12 files synced, 3 local changes not synced yet');
    expect(text).toContain('last pass 1970-01-01T00:00:02.000Z: failed');
    expect(text).toContain('last error: UNAVAILABLE: no connection');
  });

  it('names a TLS failure instead of calling the server unreachable', () => {
    const untrusted =
      "the server's certificate is not trusted (self-signed certificate in certificate chain): pass --ca FILE";
    const text = statusLines({
      ...base,
      serverCheck: { reachable: false, sessionValid: false, ms: 4, error: untrusted, tlsFailure: true },
    }).join('\n');
    expect(text).toContain(`namespace ns: cannot connect: ${untrusted}`);
    expect(text).not.toMatch(/UNREACHABLE|your network/);
  });

  it('counts one file and one change in the singular', () => {
    const text = statusLines({
      ...base,
      syncedFolders: [{ ...base.syncedFolders[0]!, files: 1, pendingLocalChanges: 1 }],
    }).join('\n');
    expect(text).toContain('1 file synced, 1 local change not synced yet');
  });

  it('names a missing folder and a refused session', () => {
    const text = statusLines({
      ...base,
      syncedFolders: [
        { ...base.syncedFolders[0]!, watching: false, missing: true, pendingLocalChanges: undefined },
      ],
      serverCheck: {
        reachable: true,
        sessionValid: false,
        ms: 3,
        error:
          'your session on this device has ended (revoked): sign in again with `filesync login --email me`',
      },
    }).join('\n');
    expect(text).toContain('not watching');
    expect(text).toContain('MISSING');
    expect(text).toContain('reachable, but the session was refused: your session on this device has ended');
    expect(text).toContain('`filesync login --email me`');
  });
});
