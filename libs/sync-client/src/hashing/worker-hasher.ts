import { Worker } from 'node:worker_threads';
import { LIMITS } from '@filesync/resources';
import type { ReferenceBlock } from '@filesync/sync-core';
import { hashFile, type FileHash, type Hasher } from './hash-file';
import type { GiveBuffer, HashRequest, SegmentReply } from './hash-worker';
import {
  hashFileInSegments,
  type HashedSegment,
  type SegmentBuffers,
  type SegmentLayout,
} from './hash-segments';

interface Job {
  readonly id: number;
  readonly path: string;
  readonly reference: readonly ReferenceBlock[] | undefined;
  /** Set for hashInSegments. */
  readonly segments?: {
    readonly layout: SegmentLayout;
    readonly buffers: SegmentBuffers;
    emit(segment: HashedSegment): void;
    /** Shared buffers lent to the worker for this job, by the id it knows them by. */
    readonly shared: Map<number, SharedArrayBuffer>;
    readonly sharedIds: Map<SharedArrayBuffer, number>;
  };
  resolve(result: FileHash): void;
  reject(error: Error): void;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  job: Job | undefined;
}

type Reply =
  | { ready: true }
  | { id: number; result: FileHash }
  | { id: number; error: string; code?: string }
  | { id: number; want: true }
  | SegmentReply;

/** Two maximum-size blocks. */
export const INLINE_BELOW_BYTES = 2 * LIMITS.chunkMaxBytes;

/**
 * Beside this module: from the sources the tsx shim in src/hashing, which loads hash-worker.ts; in
 * the bundle (tools/bundle.mjs) the bundled hash-worker.ts in dist/, beside the chunk holding this.
 */
const WORKER_ENTRY = new URL('./hash-worker.mjs', import.meta.url);

/**
 * Chunks and hashes files on a small pool of worker threads, so reading and SHA-256 of large
 * files do not stall the event loop that drives transfers and use both cores. Files below
 * INLINE_BELOW_BYTES are hashed inline: at about 400 MB/s that blocks the loop for under 25 ms,
 * while starting a worker costs tens of ms bundled (a few hundred ms when it loads the TypeScript
 * through tsx), so a folder of small files never pays for workers at all.
 */
export class WorkerHasher implements Hasher {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly poolSize = 2,
    private readonly inlineBelowBytes: number = INLINE_BELOW_BYTES,
  ) {}

  hash(path: string, size: number, reference?: readonly ReferenceBlock[]): Promise<FileHash> {
    if (this.closed) return Promise.reject(new Error('hasher is closed'));
    if (size < this.inlineBelowBytes) return hashFile(path, reference);
    return new Promise<FileHash>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, path, reference, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * hashFileInSegments on a worker: the buffers taken from `buffers` are transferred to it (the
   * caller must not touch them) and come back, filled, in the segments given to `emit`.
   */
  hashInSegments(
    path: string,
    size: number,
    layout: SegmentLayout,
    buffers: SegmentBuffers,
    emit: (segment: HashedSegment) => void,
    reference?: readonly ReferenceBlock[],
  ): Promise<FileHash> {
    if (this.closed) return Promise.reject(new Error('hasher is closed'));
    if (size < this.inlineBelowBytes) return hashFileInSegments(path, layout, buffers, emit, reference);
    return new Promise<FileHash>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        path,
        reference,
        segments: { layout, buffers, emit, shared: new Map(), sharedIds: new Map() },
        resolve,
        reject,
      });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('hasher is closed'));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((candidate) => candidate.ready && !candidate.job) ?? this.spawn();
      if (!slot || !slot.ready) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.postMessage({
        id: job.id,
        path: job.path,
        layout: job.segments?.layout,
        reference: job.reference,
      } satisfies HashRequest);
    }
  }

  /** A new worker while the pool has room; it takes work once it reports ready. */
  private spawn(): Slot | undefined {
    if (this.slots.length >= this.poolSize) return undefined;
    const worker = new Worker(WORKER_ENTRY);
    const slot: Slot = { worker, ready: false, job: undefined };
    this.slots.push(slot);
    worker.on('message', (reply: Reply) => {
      if ('ready' in reply) {
        slot.ready = true;
      } else if ('want' in reply || 'segment' in reply || 'sharedSegment' in reply) {
        const segments = slot.job?.id === reply.id ? slot.job.segments : undefined;
        if ('segment' in reply) segments?.emit(reply.segment);
        else if ('sharedSegment' in reply) {
          const buffer = segments?.shared.get(reply.sharedSegment.bufferId);
          if (buffer) segments!.emit({ buffer, blocks: reply.sharedSegment.blocks });
        } else
          void segments?.buffers.take().then((give) => {
            // The job may have ended meanwhile (the worker failed): the buffer then goes back.
            if (slot.job?.id !== reply.id) segments.buffers.give?.(give);
            else lend(slot.worker, reply.id, segments, give);
          });
        return;
      } else {
        const job = slot.job;
        slot.job = undefined;
        if (job && job.id === reply.id) {
          if ('error' in reply) job.reject(Object.assign(new Error(reply.error), { code: reply.code }));
          else job.resolve(reply.result);
        }
      }
      this.dispatch();
    });
    const fail = (error: Error) => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      slot.job?.reject(error);
      slot.job = undefined;
      if (this.closed) return;
      // A worker that never came up would fail again: give the queue the same error.
      if (!slot.ready) for (const job of this.queue.splice(0)) job.reject(error);
      else this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`hash worker exited with code ${code}`)));
    return slot;
  }
}

/**
 * Lends `buffer` to the worker for job `id`. A shared buffer is sent once per job and named by
 * id afterwards: a SharedArrayBuffer sent or an ArrayBuffer transferred arrives as a new object,
 * which V8 counts as that many megabytes of new external memory, and a full collection every few
 * segments was the result (see BufferPool). Any other buffer is transferred.
 */
function lend(
  worker: Worker,
  id: number,
  segments: NonNullable<Job['segments']>,
  buffer: ArrayBufferLike,
): void {
  if (!(buffer instanceof SharedArrayBuffer)) {
    worker.postMessage({ id, give: buffer as ArrayBuffer } satisfies GiveBuffer, [buffer as ArrayBuffer]);
    return;
  }
  let bufferId = segments.sharedIds.get(buffer);
  if (bufferId !== undefined) {
    worker.postMessage({ id, give: 'shared', bufferId } satisfies GiveBuffer);
    return;
  }
  bufferId = segments.shared.size;
  segments.shared.set(bufferId, buffer);
  segments.sharedIds.set(buffer, bufferId);
  worker.postMessage({ id, give: 'shared', bufferId, shared: buffer } satisfies GiveBuffer);
}
