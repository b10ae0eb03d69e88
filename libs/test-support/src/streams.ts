import type { ClientDuplexStream, ClientReadableStream } from '@grpc/grpc-js';

/** Every message of a server stream; rejects with the stream's status error. */
export async function collect<T>(stream: ClientReadableStream<T>): Promise<T[]> {
  const messages: T[] = [];
  for await (const message of stream) messages.push(message as T);
  return messages;
}

/** Writes `requests`, half-closes and collects the answers of a bidirectional stream. */
export async function exchange<Req, Res>(
  stream: ClientDuplexStream<Req, Res>,
  requests: readonly Req[],
): Promise<Res[]> {
  const answers = collect(stream as unknown as ClientReadableStream<Res>);
  for (const request of requests) stream.write(request);
  stream.end();
  return answers;
}

/** How a server stream ended: its status error, or none when it ended OK. */
export interface StreamEnd {
  readonly error?: Error & { code?: number; metadata?: { get(key: string): unknown[] } };
}

/**
 * Reads a server stream one message at a time, for streams that do not end by themselves (push):
 * `next` waits for the next message, `ended` for the status; both fail after `timeoutMs`.
 */
export function streamReader<T>(stream: ClientReadableStream<T>) {
  const queue: T[] = [];
  let end: StreamEnd | undefined;
  let notify: (() => void) | undefined;
  const signal = () => notify?.();
  stream.on('data', (message: T) => {
    queue.push(message);
    signal();
  });
  stream.on('error', (error: StreamEnd['error']) => {
    end ??= { error };
    signal();
  });
  stream.on('end', () => {
    end ??= {};
    signal();
  });
  const until = async (ready: () => boolean, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      notify = undefined;
    }
  };
  return {
    /** The next message; rejects when the stream ended first (with its error) or after timeoutMs. */
    async next(timeoutMs = 10_000): Promise<T> {
      await until(() => queue.length > 0 || end !== undefined, 'message', timeoutMs);
      if (queue.length > 0) return queue.shift()!;
      throw end?.error ?? new Error('the stream ended');
    },
    /** How the stream ended, after the messages still queued. */
    async ended(timeoutMs = 10_000): Promise<StreamEnd> {
      await until(() => end !== undefined, 'end of stream', timeoutMs);
      return end!;
    },
    cancel: () => stream.cancel(),
  };
}
