import { serverAddresses } from './server-addresses';
import { describeTlsFailure, isCertainTlsFailure, transportContext } from './tls-errors';

// gRPC's details as grpc-js 1.14 words them on Node 24 (seen against a grpc-js server).
const details = (last: string) =>
  `round_robin: No connection established. Last error: No connection established. Last error: ${last}. Resolution note: `;

describe('describeTlsFailure', () => {
  it('says an untrusted certificate is not trusted and points to --ca', () => {
    for (const reason of [
      'Error: unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
      'Error: self-signed certificate in certificate chain',
      'Error: certificate has expired',
    ]) {
      const line = describeTlsFailure(details(reason), { insecure: false });
      expect(line).toMatch(/^the certificate of the server is not trusted \(.+\): .*--ca FILE .*FILESYNC_CA/);
      expect(line).not.toContain('\n');
    }
  });

  it('names the address the user gave, and where the local stack keeps its CA (no bare relative path)', () => {
    const context = transportContext(serverAddresses('files.example.com:50051'));
    const line = describeTlsFailure(details('Error: self-signed certificate in certificate chain'), context);
    expect(line).toMatch(/^the certificate of the server at files\.example\.com:50051 is not trusted/);
    expect(line).toContain(
      'a local stack started with `npm start -- --tls` keeps its CA in .local/tls/ca.pem of the filesync checkout it runs from',
    );
    expect(line).not.toMatch(/the local stack's is \.local/);
    const insecure = transportContext(serverAddresses('files.example.com', { insecure: true }));
    expect(describeTlsFailure(details('Failed to connect (2026-11-30T11:18:30.669Z)'), insecure)).toBe(
      'no plaintext connection with the server at files.example.com:50051: it may require TLS (drop --insecure), ' +
        'or it is not running (check the address in --server or FILESYNC_SERVER)',
    );
    expect(describeTlsFailure(details('SSL routines::wrong version number'), context)).toMatch(
      /^the server at files\.example\.com:50051 does not speak TLS/,
    );
  });

  it('names a certificate for another host', () => {
    expect(
      describeTlsFailure(
        details(
          `Error: Hostname/IP does not match certificate's altnames: IP: 10.0.0.2 is not in the cert's list: 127.0.0.1`,
        ),
        { insecure: false },
      ),
    ).toMatch(/not for the name you gave \(10\.0\.0\.2 is not among the names it covers\)/);
  });

  it('names the whole host name the certificate does not cover, dots and all', () => {
    // Node's words for a DNS name end it with a full stop: the name must not be cut at its first dot.
    const line = describeTlsFailure(
      details(
        `Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: files.example.com. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1`,
      ),
      { insecure: false },
    );
    expect(line).toBe(
      'the certificate of the server is not for the name you gave (files.example.com is not among the names it covers): use a name it covers in --server',
    );
    expect(line).not.toContain('\n');
  });

  it('says a plaintext server does not speak TLS and how to connect to it', () => {
    expect(
      describeTlsFailure(
        details(
          'Error: 40ED66684E7F0000:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number',
        ),
        { insecure: false },
      ),
    ).toMatch(/does not speak TLS: .*--insecure/);
  });

  it('suggests TLS when an --insecure connection is dropped, and leaves other failures alone', () => {
    const dropped = details('Failed to connect (2026-11-30T11:18:30.669Z)');
    expect(describeTlsFailure(dropped, { insecure: true })).toMatch(/may require TLS \(drop --insecure\)/);
    expect(describeTlsFailure(dropped, { insecure: false })).toBeUndefined();
    expect(
      describeTlsFailure('access token expired: refresh the session', { insecure: false }),
    ).toBeUndefined();
  });

  it('says a loopback server that closed a plaintext connection before HTTP/2 speaks TLS, with or without --insecure', () => {
    // What grpc-js says for plaintext to the local stack's TLS services.
    const closed = details('Failed to connect (2026-11-30T17:14:15.171Z)');
    for (const insecure of [false, true]) {
      const context = transportContext(serverAddresses('127.0.0.1:50051', { insecure }));
      expect(describeTlsFailure(closed, context)).toBe(
        'the server at 127.0.0.1:50051 closed the connection before gRPC began, as a TLS server does: use grpcs://127.0.0.1:50051 or --tls (or, if it is no TLS server, check what listens there)',
      );
      // A stopped or crashed local stack is unreachable, not a TLS server.
      expect(
        describeTlsFailure(details('Error: connect ECONNREFUSED 127.0.0.1:50051'), context),
      ).toBeUndefined();
      expect(
        describeTlsFailure(details('read ECONNRESET (2026-11-30T17:14:46.519Z)'), context),
      ).toBeUndefined();
    }
    // Over TLS already, or --insecure to a remote host: not this advice.
    expect(transportContext(serverAddresses('grpcs://127.0.0.1:50051')).plaintextLoopback).toBeUndefined();
    const remote = transportContext(serverAddresses('files.example.com', { insecure: true }));
    expect(describeTlsFailure(closed, remote)).toMatch(/drop --insecure/);
  });
});

describe('isCertainTlsFailure (what ends a watch)', () => {
  it('is true for certificate and protocol mismatches, false for connections a server going down also breaks', () => {
    expect(isCertainTlsFailure('unable to verify the first certificate')).toBe(true);
    expect(isCertainTlsFailure('SSL routines::wrong version number')).toBe(true);
    for (const details of [
      'read ECONNRESET',
      'Connection dropped',
      'Failed to connect',
      'socket hang up',
      'connect ECONNREFUSED 127.0.0.1:50051',
    ])
      expect(isCertainTlsFailure(details)).toBe(false);
  });
});
