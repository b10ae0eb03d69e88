import { parentPort } from 'node:worker_threads';
import { errorText } from '../storage/fs-error';
import type { ReferenceBlock } from '@filesync/sync-core';
import { hashFile } from './hash-file';
import { hashFileInSegments, type HashedSegment, type SegmentLayout } from './hash-segments';

/** Runs in a worker thread (see worker-hasher.ts): one request at a time, answered by id. */
export interface HashRequest {
  readonly id: number;
  readonly path: string;
  /** Set: hash in segments (hashFileInSegments), asking for buffers with `want`, sending each. */
  readonly layout?: SegmentLayout;
  /** The path's previous blocks (hash-file.ts). */
  readonly reference?: readonly ReferenceBlock[];
}

/**
 * A buffer lent for the segments of request `id`, answering its `want`: a transferred
 * ArrayBuffer, or a shared buffer named by `bufferId` (sent with `shared` the first time it is
 * lent for this request, by id only afterwards: see worker-hasher.ts).
 */
export type GiveBuffer =
  | { readonly id: number; readonly give: ArrayBuffer }
  | {
      readonly id: number;
      readonly give: 'shared';
      readonly bufferId: number;
      readonly shared?: SharedArrayBuffer;
    };

/** A filled segment: its buffer transferred, or the id of the shared buffer it is in. */
export type SegmentReply =
  | { readonly id: number; readonly segment: HashedSegment }
  | {
      readonly id: number;
      readonly sharedSegment: { readonly bufferId: number; readonly blocks: HashedSegment['blocks'] };
    };

if (!parentPort) throw new Error('hash-worker must run in a worker thread');
const port = parentPort;
/**
 * The request in segments being served: a buffer asked for and not yet given (`asked`), the
 * reader waiting for one, or one given ahead of need. One buffer is asked for ahead, so the
 * reader does not wait for the main thread to answer (it may be busy packing) at every segment.
 */
interface Lending {
  readonly id: number;
  asked: boolean;
  waiting?: (buffer: ArrayBufferLike) => void;
  spare?: ArrayBufferLike;
  /** Shared buffers lent for this request, by id, and their ids. */
  readonly shared: Map<number, SharedArrayBuffer>;
  readonly sharedIds: Map<ArrayBufferLike, number>;
}
let lending: Lending | undefined;

function ask(state: Lending): void {
  if (state.asked) return;
  state.asked = true;
  port.postMessage({ id: state.id, want: true });
}

port.on('message', (message: HashRequest | GiveBuffer) => {
  if ('give' in message) {
    const state = lending?.id === message.id ? lending : undefined;
    if (!state) return;
    let buffer: ArrayBufferLike | undefined;
    if (message.give === 'shared') {
      if (message.shared) {
        state.shared.set(message.bufferId, message.shared);
        state.sharedIds.set(message.shared, message.bufferId);
      }
      buffer = state.shared.get(message.bufferId);
    } else {
      buffer = message.give;
    }
    if (!buffer) return;
    state.asked = false;
    const waiting = state.waiting;
    state.waiting = undefined;
    if (!waiting) {
      state.spare = buffer;
      return;
    }
    waiting(buffer);
    ask(state);
    return;
  }
  const request = message;
  const hashed = request.layout
    ? hashInSegments(request.id, request.path, request.layout, request.reference).finally(
        () => (lending = undefined),
      )
    : hashFile(request.path, request.reference);
  hashed.then(
    (result) => port.postMessage({ id: request.id, result }),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        error: errorText(error),
        code: (error as NodeJS.ErrnoException | undefined)?.code,
      }),
  );
});

function hashInSegments(
  id: number,
  path: string,
  layout: SegmentLayout,
  reference: readonly ReferenceBlock[] | undefined,
) {
  const state: Lending = { id, asked: false, shared: new Map(), sharedIds: new Map() };
  lending = state;
  return hashFileInSegments(
    path,
    layout,
    {
      take: () => {
        const spare = state.spare;
        state.spare = undefined;
        if (spare) {
          ask(state);
          return Promise.resolve(spare);
        }
        return new Promise<ArrayBufferLike>((resolve) => {
          state.waiting = resolve;
          ask(state);
        });
      },
    },
    // Shared or transferred, never copied: the main thread gets the very bytes that were hashed.
    (segment) => {
      const bufferId = state.sharedIds.get(segment.buffer);
      if (bufferId === undefined)
        port.postMessage({ id, segment } satisfies SegmentReply, [segment.buffer as ArrayBuffer]);
      else
        port.postMessage({ id, sharedSegment: { bufferId, blocks: segment.blocks } } satisfies SegmentReply);
    },
    reference,
  );
}
port.postMessage({ ready: true });
