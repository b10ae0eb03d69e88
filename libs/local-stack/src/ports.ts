import { connect, createServer } from 'node:net';

/** A port the stack needs is taken: the message says which and by what, probably. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly role: string,
  ) {
    super(`port ${port} (${role}) is in use: is \`npm start\` already running, or another program on it?`);
    this.name = 'PortInUseError';
  }
}

function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Whether a port is free on the loopback interface. Both probes are needed: a listener on
 * 0.0.0.0 (DynamoDB Local binds there) answers a connect, and a port held by a socket that does
 * not accept yet still refuses a bind.
 */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  if (await acceptsConnections(host, port)) return false;
  return canListen(host, port);
}

/** Throws PortInUseError naming the first taken port of `ports` (role => port). */
export async function assertPortsFree(ports: Readonly<Record<string, number>>): Promise<void> {
  const checks = await Promise.all(
    Object.entries(ports).map(async ([role, port]) => ({ role, port, free: await isPortFree(port) })),
  );
  const taken = checks.find((check) => !check.free);
  if (taken) throw new PortInUseError(taken.port, taken.role);
}

/** Polls until `probe` resolves true, or throws after `timeoutMs` with `what` in the message. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  {
    timeoutMs,
    intervalMs = 100,
    aborted,
  }: { timeoutMs: number; intervalMs?: number; aborted?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = aborted?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** True when an HTTP request to `url` gets any answer (an emulator answers errors too). */
export async function answersHttp(url: string, init: RequestInit = {}): Promise<boolean> {
  try {
    await fetch(url, { ...init, signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}
