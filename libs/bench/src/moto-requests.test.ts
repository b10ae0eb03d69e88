import { describeCount, parseMotoLine, summarize } from './moto-requests';

const buckets = new Set(['filesync-blocks', 'filesync-bench']);
const line = (request: string, status = 200) =>
  `127.0.0.1 - - [29/Nov/2026 23:37:22] "${request} HTTP/1.1" ${status} -`;

describe('parseMotoLine: S3 requests counted from moto_server request log lines', () => {
  it('names the S3 operation of requests to our buckets, as S3 bills them', () => {
    expect(parseMotoLine(line('PUT /filesync-bench/aws/files/d000/f00001.bin'), buckets)).toEqual({
      operation: 'PUT',
      status: 200,
    });
    expect(parseMotoLine(line('GET /filesync-blocks/ns/blocks/ab12'), buckets)?.operation).toBe('GET');
    expect(parseMotoLine(line('HEAD /filesync-blocks/ns/blocks/ab12', 404), buckets)).toEqual({
      operation: 'HEAD',
      status: 404,
    });
    expect(
      parseMotoLine(line('GET /filesync-bench?list-type=2&prefix=x/&encoding-type=url'), buckets)?.operation,
    ).toBe('LIST');
    expect(parseMotoLine(line('GET /filesync-bench/'), buckets)?.operation).toBe('LIST');
    expect(
      parseMotoLine(line('PUT /filesync-bench/big.bin?partNumber=2&uploadId=abc'), buckets)?.operation,
    ).toBe('PUT');
    expect(parseMotoLine(line('POST /filesync-bench/big.bin?uploads'), buckets)?.operation).toBe('POST');
    expect(parseMotoLine(line('POST /filesync-bench?delete'), buckets)?.operation).toBe('DELETE');
    expect(parseMotoLine(line('DELETE /filesync-bench/x'), buckets)?.operation).toBe('DELETE');
  });

  it('ignores STS, IAM and SQS calls, moto-api, other buckets and non-request lines', () => {
    expect(parseMotoLine(line('POST /'), buckets)).toBeUndefined();
    expect(parseMotoLine(line('POST /123456789012/filesync-change-events'), buckets)).toBeUndefined();
    expect(parseMotoLine(line('GET /moto-api/'), buckets)).toBeUndefined();
    expect(parseMotoLine(line('PUT /someone-else/key'), buckets)).toBeUndefined();
    expect(parseMotoLine(' * Running on http://127.0.0.1:16766', buckets)).toBeUndefined();
  });
});

describe('summarize and describeCount', () => {
  it('counts by operation, largest first, and says how many moto refused', () => {
    const count = summarize([
      { operation: 'PUT', status: 200 },
      { operation: 'PUT', status: 200 },
      { operation: 'HEAD', status: 404 },
    ]);
    expect(count).toEqual({ total: 3, byOperation: { PUT: 2, HEAD: 1 }, errors: 1 });
    expect(describeCount(count)).toBe('3 (PUT 2, HEAD 1; 1 4xx/5xx)');
  });
});
