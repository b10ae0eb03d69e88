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
