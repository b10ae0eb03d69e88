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
/** The request in segments being served and its pending ask for a buffer. */
let lending: { id: number; waiting?: (buffer: ArrayBuffer) => void } | undefined;

port.on('message', (message: HashRequest | GiveBuffer) => {
  if ('give' in message) {
    const waiting = lending?.id === message.id ? lending.waiting : undefined;
    if (lending) lending.waiting = undefined;
    waiting?.(message.give);
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
  const state: NonNullable<typeof lending> = { id };
  lending = state;
  return hashFileInSegments(
    path,
    layout,
    {
      take: () =>
        new Promise<ArrayBuffer>((resolve) => {
          state.waiting = resolve;
          port.postMessage({ id, want: true });
        }),
    },
    // Transferred, not copied: the main thread gets the very bytes that were hashed.
    (segment) => port.postMessage({ id, segment }, [segment.buffer]),
  );
}
port.postMessage({ ready: true });
