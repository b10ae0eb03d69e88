import { SERVICE_PORTS } from '@filesync/resources';

export const DEFAULT_SERVER = `127.0.0.1:${SERVICE_PORTS.auth.grpc}`;

/** Where each of the four services of one deployment listens (host:port). */
export interface ServerAddresses {
  /** The deployment as the user named it, normalised to host:basePort. */
  readonly server: string;
  readonly auth: string;
  readonly metadata: string;
  readonly syncDiff: string;
  readonly notifier: string;
}

export class InvalidServerError extends Error {
  override name = 'InvalidServerError';
}

/**
 * A deployment is named by one `host[:basePort]`; the services listen on consecutive ports in
 * SERVICE_PORTS order (auth on the base port), as the local stack and the NLB listeners do.
 */
export function serverAddresses(spec: string = DEFAULT_SERVER): ServerAddresses {
  const trimmed = spec.trim();
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+)(?::(\d{1,5}))?$/.exec(trimmed);
  if (!match) throw new InvalidServerError(`invalid server '${spec}': expected host[:port]`);
  const host = match[1]!;
  const base = match[2] === undefined ? SERVICE_PORTS.auth.grpc : Number(match[2]);
  const offset = (service: keyof typeof SERVICE_PORTS) =>
    SERVICE_PORTS[service].grpc - SERVICE_PORTS.auth.grpc;
  if (base < 1 || base + offset('notifier') > 65535) {
    throw new InvalidServerError(`invalid server '${spec}': port out of range`);
  }
  const at = (service: keyof typeof SERVICE_PORTS) => `${host}:${base + offset(service)}`;
  return {
    server: at('auth'),
    auth: at('auth'),
    metadata: at('metadata'),
    syncDiff: at('sync-diff'),
    notifier: at('notifier'),
  };
}
