import { BlockList, isIP } from 'node:net';
import { SERVICE_PORTS } from '@filesync/resources';

export const DEFAULT_SERVER = `127.0.0.1:${SERVICE_PORTS.auth.grpc}`;

/** The scheme that asks for TLS to a loopback server (anything else uses TLS anyway). */
export const TLS_SCHEME = 'grpcs://';

/** Where each of the four services of one deployment listens (host:port), and how to talk to them. */
export interface ServerAddresses {
  /**
   * The deployment as the user named it, normalised to `host:basePort`, or `grpcs://host:basePort`
   * for TLS to a loopback host: what the session records, so later commands connect the same way.
   */
  readonly server: string;
  readonly host: string;
  /** Connect with TLS (see serverAddresses for the rule). */
  readonly tls: boolean;
  /** Plaintext to a host that is not loopback, because the user said `--insecure`: warn about it. */
  readonly insecure: boolean;
  readonly auth: string;
  readonly metadata: string;
  readonly syncDiff: string;
  readonly notifier: string;
}

/** How the command line asked to connect, beside the server's name. */
export interface TransportChoice {
  /** `--tls`: TLS even to a loopback host (as `grpcs://` does). */
  readonly tls?: boolean;
  /** `--insecure`: plaintext even to a host that is not loopback. */
  readonly insecure?: boolean;
}

export class InvalidServerError extends Error {
  override name = 'InvalidServerError';
}

/** The variable that names a CA file to trust when `--ca` is not given. */
export const CA_ENV = 'FILESYNC_CA';

/** `--ca FILE` (or FILESYNC_CA) cannot be read or holds no certificate: a usage error. */
export class InvalidCaError extends Error {
  override name = 'InvalidCaError';
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether `host` (a name, an IPv4 address or an IPv6 address, bracketed or not) is this machine
 * without a network in between: 127.0.0.0/8, ::1 (also IPv4-mapped) or `localhost`. Other names
 * are not looked up: what one resolves to can change, a rule on the name cannot.
 */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  const family = isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * A deployment is named by one `[grpcs://]host[:basePort]`; the services listen on consecutive
 * ports in SERVICE_PORTS order (auth on the base port), as the local stack and the NLB listeners do.
 *
 * Transport: TLS for every host that is not loopback; plaintext for loopback unless `grpcs://` or
 * `--tls` asks for TLS. `--insecure` forces plaintext (and `insecure` is then set for a host that
 * is not loopback, so the caller warns). Throws InvalidServerError for a malformed name or for
 * `--tls` with `--insecure`.
 */
export function serverAddresses(
  spec: string = DEFAULT_SERVER,
  transport: TransportChoice = {},
): ServerAddresses {
  if (transport.tls && transport.insecure) {
    throw new InvalidServerError('--tls and --insecure contradict each other: give one');
  }
  const trimmed = spec.trim();
  const schemed = trimmed.toLowerCase().startsWith(TLS_SCHEME);
  const rest = schemed ? trimmed.slice(TLS_SCHEME.length) : trimmed;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+)(?::(\d{1,5}))?$/.exec(rest);
  if (!match) throw new InvalidServerError(`invalid server '${spec}': expected [grpcs://]host[:port]`);
  const host = match[1]!;
  const base = match[2] === undefined ? SERVICE_PORTS.auth.grpc : Number(match[2]);
  const offset = (service: keyof typeof SERVICE_PORTS) =>
    SERVICE_PORTS[service].grpc - SERVICE_PORTS.auth.grpc;
  if (base < 1 || base + offset('notifier') > 65535) {
    throw new InvalidServerError(`invalid server '${spec}': port out of range`);
  }
  const loopback = isLoopback(host);
  const tls = transport.insecure ? false : schemed || transport.tls === true || !loopback;
  const at = (service: keyof typeof SERVICE_PORTS) => `${host}:${base + offset(service)}`;
  return {
    // --insecure is not recorded: every plaintext run to a remote host asks for it again.
    server: tls && loopback ? `${TLS_SCHEME}${at('auth')}` : at('auth'),
    host,
    tls,
    insecure: !tls && !loopback,
    auth: at('auth'),
    metadata: at('metadata'),
    syncDiff: at('sync-diff'),
    notifier: at('notifier'),
  };
}

/** The warning an `--insecure` run to a host that is not loopback prints on stderr, every time. */
export function insecureWarning(server: string): string {
  return (
    `filesync: warning: --insecure: talking to ${server} without TLS; ` +
    'passwords, tokens and file names cross the network readable by anyone on the way\n'
  );
}
