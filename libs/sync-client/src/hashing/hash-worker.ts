import { parentPort } from 'node:worker_threads';
import { errorText } from '../storage/fs-error';
import { hashFile } from './hash-file';

/** Runs in a worker thread (see worker-hasher.ts): one request at a time, answered by id. */
export interface HashRequest {
  readonly id: number;
  readonly path: string;
}

if (!parentPort) throw new Error('hash-worker must run in a worker thread');
const port = parentPort;
port.on('message', (request: HashRequest) => {
  hashFile(request.path).then(
    (result) => port.postMessage({ id: request.id, result }),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        error: errorText(error),
        code: (error as NodeJS.ErrnoException | undefined)?.code,
      }),
  );
});
port.postMessage({ ready: true });
