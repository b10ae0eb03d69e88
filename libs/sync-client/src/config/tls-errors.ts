import { CA_ENV, TLS_SCHEME, type ServerAddresses } from './server-addresses';

/** Node's words for a certificate chain it does not trust (tls.connect's authorizationError). */
const UNTRUSTED =
  /unable to verify the first certificate|unable to get local issuer certificate|unable to get issuer certificate|self[- ]signed certificate(?: in certificate chain)?|certificate has expired|certificate is not yet valid|certificate signature failure|invalid CA certificate|certificate not trusted/i;
/**
 * Node's words for a certificate of another name: `...altnames: Host: files.example.com. is not
 * in the cert's altnames: DNS:...` (a DNS name ends with a full stop) or `...altnames: IP: 10.0.0.2
 * is not in the cert's list: ...`. The name is group 1, when Node gave it.
 */
const WRONG_NAME =
  /Hostname\/IP does not match certificate's altnames(?::\s*(?:Host|IP): (\S+?)\.? is not in the cert's)?/i;
/** What a TLS handshake with a plaintext server ends with. */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol|http request/i;
/** How a plaintext connection that the server dropped surfaces (a TLS server closes it at once). */
const DROPPED = /Failed to connect|Connection dropped|ECONNRESET|socket hang up|Protocol error/i;
/**
 * What grpc-js 1.14 says when the server closed a plaintext connection cleanly before HTTP/2
 * began: what a TLS server does (tried against the local stack's TLS services). A server that
 * was stopped refuses instead (ECONNREFUSED), one that crashed resets (ECONNRESET), and an
 * HTTP/1 one answers (Protocol error): none of them reads as this.
 */
const CLOSED_BEFORE_HTTP2 = /Failed to connect/;

/** How the failed connection was made: what the advice for a TLS failure depends on. */
export interface TransportContext {
  /** Plaintext to a host that is not loopback, on purpose (`--insecure`). */
  readonly insecure: boolean;
  /**
   * The loopback server (host:port) this run spoke plaintext to (loopback's default, with
   * `--insecure` or without), when it did.
   */
  readonly plaintextLoopback?: string | undefined;
  /** The server (host:port) as the user gave it: a message names it, so the user knows which one. */
  readonly server?: string | undefined;
}

/** The TransportContext of connections to `addresses`. */
export function transportContext(
  addresses: Pick<ServerAddresses, 'server' | 'tls' | 'insecure'>,
): TransportContext {
  return {
    insecure: addresses.insecure,
    server: addresses.server,
    plaintextLoopback: !addresses.tls && !addresses.insecure ? addresses.server : undefined,
  };
}

/**
 * One line saying what to do when a connection failed for a TLS reason, from the gRPC error's
 * details; undefined when the failure is something else. A dropped plaintext connection means a
 * TLS server only when the run chose plaintext: for a loopback server, only a connection closed
 * before HTTP/2 (a stopped local stack refuses, and must still read as unreachable); for one
 * that is not loopback (`--insecure`), any dropped connection.
 */
export function describeTlsFailure(details: string, context: TransportContext): string | undefined {
  const at = context.server === undefined ? 'the server' : `the server at ${context.server}`;
  const untrusted = UNTRUSTED.exec(details);
  if (untrusted) {
    // The CA path of the local stack is only meaningful inside its checkout, so it is said so.
    return (
      `the certificate of ${at} is not trusted (${untrusted[0]}): pass the certificate of the CA that ` +
      `signed it with --ca FILE (or ${CA_ENV}=FILE); a local stack started with \`npm start -- --tls\` ` +
      'keeps its CA in .local/tls/ca.pem of the filesync checkout it runs from'
    );
  }
  const wrongName = WRONG_NAME.exec(details);
  if (wrongName) {
    const reason = wrongName[1] ? `${wrongName[1]} is not among the names it covers` : wrongName[0].trim();
    return `the certificate of ${at} is not for the name you gave (${reason}): use a name it covers in --server`;
  }
  if (NOT_TLS.test(details)) {
    return (
      `${at} does not speak TLS: for a plaintext server use --insecure ` +
      '(a loopback server is plaintext by default: drop --tls or grpcs://)'
    );
  }
  const loopback = context.plaintextLoopback;
  if (loopback !== undefined && CLOSED_BEFORE_HTTP2.test(details)) {
    // --insecure changes nothing for loopback, which is plaintext anyway: TLS is asked for.
    // A listener that accepts and closes (a tunnel whose far end is down) reads the same: said too.
    return `the server at ${loopback} closed the connection before gRPC began, as a TLS server does: use ${TLS_SCHEME}${loopback} or --tls (or, if it is no TLS server, check what listens there)`;
  }
  if (context.insecure && DROPPED.test(details)) {
    return `no plaintext connection with ${at}: it may require TLS (drop --insecure), or it is not running (check the address in --server or FILESYNC_SERVER)`;
  }
  return undefined;
}

/** A gRPC error's details, else its message: the text describeTlsFailure reads. */
export function errorDetails(error: unknown): string {
  return String((error as { details?: unknown }).details || (error as Error).message || '');
}

/**
 * True when the failure is a TLS misconfiguration whatever the transport: an untrusted
 * certificate, a name it does not cover, TLS against a plaintext server. Not a connection merely
 * dropped or closed before HTTP/2, which describeTlsFailure reads as TLS for a plaintext run but a
 * server going down produces too: a watch, which outlives its server's restarts, ends only on these.
 */
export function isCertainTlsFailure(details: string): boolean {
  return describeTlsFailure(details, { insecure: false }) !== undefined;
}
