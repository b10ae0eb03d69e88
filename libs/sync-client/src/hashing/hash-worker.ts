import { parentPort } from 'node:worker_threads';
import { errorText } from '../storage/fs-error';
import { hashFile } from './hash-file';
import { hashFileInSegments, type SegmentLayout } from './hash-segments';

/** Runs in a worker thread (see worker-hasher.ts): one request at a time, answered by id. */
export interface HashRequest {
  readonly id: number;
  readonly path: string;
  /** Set: hash in segments (hashFileInSegments), asking for buffers with `want`, sending each. */
  readonly layout?: SegmentLayout;
}

/** A buffer lent for the segments of request `id`, answering its `want` (transferred). */
export interface GiveBuffer {
  readonly id: number;
  readonly give: ArrayBuffer;
}

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
  waiting?: (buffer: ArrayBuffer) => void;
  spare?: ArrayBuffer;
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
    state.asked = false;
    const waiting = state.waiting;
    state.waiting = undefined;
    if (!waiting) {
      state.spare = message.give;
      return;
    }
    waiting(message.give);
    ask(state);
    return;
  }
  const request = message;
  const hashed = request.layout
    ? hashInSegments(request.id, request.path, request.layout).finally(() => (lending = undefined))
    : hashFile(request.path);
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

function hashInSegments(id: number, path: string, layout: SegmentLayout) {
  const state: Lending = { id, asked: false };
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
        return new Promise<ArrayBuffer>((resolve) => {
          state.waiting = resolve;
          ask(state);
        });
      },
    },
    // Transferred, not copied: the main thread gets the very bytes that were hashed.
    (segment) => port.postMessage({ id, segment }, [segment.buffer]),
  );
}
port.postMessage({ ready: true });
