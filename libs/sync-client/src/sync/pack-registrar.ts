import { registerBatches, type PackRecord, type SyncRemote } from './remote';

/**
 * Registers stored packs with the server (RegisterPacks) as they come: one request in flight at
 * a time, and the packs stored meanwhile go together in its next request (registerBatches). Each
 * request's packs are reported to `settled`, with the error when the request failed. Never
 * rejects.
 */
export class PackRegistrar {
  private readonly waiting: PackRecord[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly remote: Pick<SyncRemote, 'registerPacks'>,
    private readonly namespaceId: string,
    private readonly settled: (packs: readonly PackRecord[], failure: unknown) => void,
  ) {}

  /** Queues a stored pack; a registration starts if none runs. */
  add(pack: PackRecord): void {
    this.waiting.push(pack);
    this.start();
  }

  /** Resolves once nothing waits and no request runs. */
  async drained(): Promise<void> {
    while (this.running) await this.running;
  }

  private start(): void {
    if (this.running || this.waiting.length === 0) return;
    this.running = this.registerWaiting().finally(() => {
      this.running = undefined;
      this.start();
    });
  }

  private async registerWaiting(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, registerBatches(this.waiting)[0]!.length);
      let failure: unknown;
      try {
        await this.remote.registerPacks(this.namespaceId, batch);
      } catch (error) {
        failure = error ?? new Error('registering packs failed');
      }
      this.settled(batch, failure);
    }
  }
}
