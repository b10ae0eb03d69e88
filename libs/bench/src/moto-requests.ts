/**
 * S3 requests counted at the emulator: moto_server (werkzeug) logs one line per request it
 * answered, e.g. `127.0.0.1 - - [29/Nov/2026 23:37:22] "PUT /bucket/key HTTP/1.1" 200 -`. The
 * local stack hands every line moto prints to its log sink; this counts the lines that name one
 * of our buckets, so the figure holds whatever client made the request (the CLI, a peer tool, or
 * a service checking the CLI's work) and whichever S3 library it used. moto's own recorder
 * (/moto-api/recorder/*) is not used: it stores every request body base64 in a file, which would
 * write 1.3 GiB for a 1 GiB upload and slow moto down for the very phase being measured.
 */

/** By request, as S3 prices them: PUT (incl. multipart parts), POST (multipart start/finish, batch delete). */
export type S3Operation = 'PUT' | 'GET' | 'HEAD' | 'LIST' | 'POST' | 'DELETE' | 'OTHER';

export interface S3Request {
  readonly operation: S3Operation;
  readonly status: number;
}

const REQUEST_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/;

/**
 * The S3 request one moto log line reports, when it is a path-style request to one of `buckets`;
 * undefined for anything else (STS, IAM and SQS requests, moto-api, start-up chatter).
 */
export function parseMotoLine(line: string, buckets: ReadonlySet<string>): S3Request | undefined {
  const match = REQUEST_LINE.exec(line);
  if (!match) return undefined;
  const [, method, target, status] = match as unknown as [string, string, string, string];
  const [path = '', query = ''] = target.split('?', 2);
  const segments = path.split('/');
  // segments[0] is '' (the path starts with '/'); [1] the bucket; the rest the key.
  const bucket = decodeURIComponent(segments[1] ?? '');
  if (!buckets.has(bucket)) return undefined;
  const hasKey = segments.length > 2 && segments.slice(2).join('/') !== '';
  const params = new URLSearchParams(query);
  let operation: S3Operation;
  if (method === 'HEAD') operation = 'HEAD';
  else if (method === 'PUT') operation = 'PUT';
  else if (method === 'DELETE') operation = 'DELETE';
  else if (method === 'POST') operation = params.has('delete') ? 'DELETE' : 'POST';
  else if (method === 'GET') operation = hasKey ? 'GET' : 'LIST';
  else operation = 'OTHER';
  return { operation, status: Number(status) };
}

/** Requests of one phase: the total, by operation, and how many moto answered with 4xx/5xx. */
export interface S3RequestCount {
  readonly total: number;
  readonly byOperation: Partial<Record<S3Operation, number>>;
  readonly errors: number;
}

export function summarize(requests: readonly S3Request[]): S3RequestCount {
  const byOperation: Partial<Record<S3Operation, number>> = {};
  let errors = 0;
  for (const request of requests) {
    byOperation[request.operation] = (byOperation[request.operation] ?? 0) + 1;
    if (request.status >= 400) errors++;
  }
  return { total: requests.length, byOperation, errors };
}

/** `10,213 (PUT 10,000, LIST 200, HEAD 13)`, largest first; `; 12 errors` when moto refused some. */
export function describeCount(count: S3RequestCount): string {
  const parts = Object.entries(count.byOperation)
    .sort(([, a], [, b]) => b - a)
    .map(([operation, n]) => `${operation} ${n.toLocaleString('en-US')}`);
  const errors = count.errors > 0 ? `; ${count.errors.toLocaleString('en-US')} 4xx/5xx` : '';
  return `${count.total.toLocaleString('en-US')} (${parts.join(', ')}${errors})`;
}

/**
 * Collects moto's request log and cuts it into phases. A phase ends with a marker request: moto
 * writes a request's log line before it sends the answer, so once the marker's line arrived,
 * every request answered before the marker was sent has been counted.
 */
export class MotoRequestLog {
  private readonly requests: S3Request[] = [];
  private readonly seenMarkers = new Set<string>();
  private readonly waiting = new Map<string, () => void>();
  private markers = 0;

  constructor(
    private readonly endpoint: string,
    private readonly buckets: ReadonlySet<string>,
  ) {}

  /** Feed every line moto prints here (the stack's log sink for `moto`). */
  observe(line: string): void {
    const marker = /"GET \/(filesync-bench-marker-\d+) HTTP/.exec(line)?.[1];
    if (marker) {
      this.seenMarkers.add(marker);
      this.waiting.get(marker)?.();
      return;
    }
    const request = parseMotoLine(line, this.buckets);
    if (request) this.requests.push(request);
  }

  /** A position in the log that includes every request moto answered before this call. */
  async mark(timeoutMs = 30_000): Promise<number> {
    const marker = `filesync-bench-marker-${++this.markers}`;
    const seen = new Promise<void>((resolve, reject) => {
      if (this.seenMarkers.has(marker)) resolve();
      this.waiting.set(marker, resolve);
      setTimeout(
        () => reject(new Error(`moto's log never showed ${marker}: is its request log reaching the sink?`)),
        timeoutMs,
      ).unref();
    });
    // Any answer will do (moto says NoSuchBucket); the log line is what counts.
    await fetch(`${this.endpoint}/${marker}`).then((response) => response.arrayBuffer());
    await seen;
    this.waiting.delete(marker);
    return this.requests.length;
  }

  between(from: number, to: number): S3RequestCount {
    return summarize(this.requests.slice(from, to));
  }
}
