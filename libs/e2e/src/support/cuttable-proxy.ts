import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * TCP forwarding from `count` consecutive ports from `fromPort` to as many from `toPort`, on
 * 127.0.0.1, that a test can cut (every connection dropped, nothing listening: the server is
 * unreachable) and restore: a network outage between a client and the services.
 */
export class CuttableProxy {
  private servers: Server[] = [];
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly fromPort: number,
    private readonly toPort: number,
    private readonly count: number,
  ) {}

  /** The `host:basePort` a client gives as its server. */
  get server(): string {
    return `127.0.0.1:${this.fromPort}`;
  }

  async open(): Promise<void> {
    for (let index = 0; index < this.count; index++) {
      const server = createServer((client) => {
        const upstream = connect(this.toPort + index, '127.0.0.1');
        for (const socket of [client, upstream]) {
          this.sockets.add(socket);
          socket.on('close', () => this.sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.fromPort + index, '127.0.0.1', () => resolve());
      });
      this.servers.push(server);
    }
  }

  async cut(): Promise<void> {
    const closing = this.servers.map((server) => new Promise((resolve) => server.close(resolve)));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closing);
    this.servers = [];
  }
}
