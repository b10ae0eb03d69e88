import { CA_ENV } from './server-addresses';

/** Node's words for a certificate chain it does not trust (tls.connect's authorizationError). */
const UNTRUSTED =
  /unable to verify the first certificate|unable to get local issuer certificate|unable to get issuer certificate|self[- ]signed certificate(?: in certificate chain)?|certificate has expired|certificate is not yet valid|certificate signature failure|invalid CA certificate|certificate not trusted/i;
const WRONG_NAME = /Hostname\/IP does not match certificate's altnames[^.;\n]*/i;
/** What a TLS handshake with a plaintext server ends with. */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol|http request/i;
/** How a plaintext connection that the server dropped surfaces (a TLS server closes it at once). */
const DROPPED = /Failed to connect|Connection dropped|ECONNRESET|socket hang up|Protocol error/i;

/**
 * One line saying what to do when a connection failed for a TLS reason, from the gRPC error's
 * details; undefined when the failure is something else. `insecure`: the run was plaintext on
 * purpose (`--insecure`), when a dropped connection most likely means the server wants TLS.
 */
export function describeTlsFailure(details: string, context: { insecure: boolean }): string | undefined {
  const untrusted = UNTRUSTED.exec(details);
  if (untrusted) {
    return (
      `the server's certificate is not trusted (${untrusted[0]}): if the deployment uses a CA of its ` +
      `own, pass its certificate with --ca FILE (or ${CA_ENV}=FILE); the local stack's is .local/tls/ca.pem`
    );
  }
  const wrongName = WRONG_NAME.exec(details);
  if (wrongName) {
    return `the server's certificate is not for the name you gave (${wrongName[0].trim()}): use a name it covers in --server`;
  }
  if (NOT_TLS.test(details)) {
    return (
      'the server does not speak TLS: for a plaintext server use --insecure ' +
      '(a loopback server is plaintext by default: drop --tls or grpcs://)'
    );
  }
  if (context.insecure && DROPPED.test(details)) {
    return 'no plaintext connection with the server: it may require TLS (drop --insecure), or it is not running';
  }
  return undefined;
}

/** A gRPC error's details, else its message: the text describeTlsFailure reads. */
export function errorDetails(error: unknown): string {
  return String((error as { details?: unknown }).details || (error as Error).message || '');
}
