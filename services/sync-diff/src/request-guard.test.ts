// Unit test: Diff's request guard on bytes the generated encoder writes.
import { syncdiff } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import { guardedSyncDiffDefinition, manifestEntriesIn } from './request-guard';

const entry = (path: string): syncdiff.ManifestEntry => ({
  path,
  contentHash: '',
  size: 0,
  baseVersion: 0,
  baseContentHash: '',
  deleted: false,
});
const encode = (request: syncdiff.DiffRequest) => Buffer.from(syncdiff.DiffRequest.encode(request).finish());
const entries = (count: number) =>
  encode({
    message: {
      $case: 'entries',
      value: { entries: Array.from({ length: count }, (_, i) => entry(`f${i}`)) },
    },
  });
const deserialize = guardedSyncDiffDefinition.diff.requestDeserialize;

describe('Diff request guard', () => {
  it('counts the entries of an `entries` message without decoding it, and nothing in other messages', () => {
    expect(manifestEntriesIn(entries(3))).toBe(3);
    expect(manifestEntriesIn(entries(0))).toBe(0);
    expect(manifestEntriesIn(encode({ message: { $case: 'entry', value: entry('a') } }))).toBe(0);
    expect(
      manifestEntriesIn(
        encode({
          message: {
            $case: 'start',
            value: { namespaceId: 'ns', sinceCursor: 0, remoteRoot: '', resumeAfter: '' },
          },
        }),
      ),
    ).toBe(0);
    // Repeated `entries` fields in one message all decode, so all count.
    expect(manifestEntriesIn(Buffer.concat([entries(2), entries(4)]))).toBe(6);
    expect(manifestEntriesIn(entries(50), 10)).toBe(11);
  });

  it('decodes up to the limit and refuses more before decoding', () => {
    const max = LIMITS.maxManifestEntriesPerMessage;
    const atLimit = deserialize(entries(max));
    expect(atLimit.message?.$case === 'entries' && atLimit.message.value.entries.length).toBe(max);
    expect(() => deserialize(entries(max + 1))).toThrow(`more than ${max} manifest entries`);
    // The amplification it stops: empty entries are 2 bytes each on the wire.
    const empties = Buffer.concat([Buffer.from([0x1a]), varint(2 * 1_000_000), Buffer.alloc(2 * 1_000_000)]);
    for (let i = 1 + varint(2 * 1_000_000).length; i < empties.length; i += 2) empties[i] = 0x0a;
    expect(manifestEntriesIn(empties, max)).toBe(max + 1);
    expect(() => deserialize(empties)).toThrow('manifest entries');
  });

  it('leaves bytes that are no message to the decoder', () => {
    expect(manifestEntriesIn(Buffer.from([0x1a, 0xff]))).toBe(0);
    expect(() => deserialize(Buffer.from([0x1a, 0xff]))).toThrow();
  });
});

function varint(value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) {
      bytes.push(rest);
      return Buffer.from(bytes);
    }
    bytes.push((rest % 128) | 128);
  }
}
