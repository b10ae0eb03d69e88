import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { syncdiff } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';

/** DiffRequest.entries and ManifestEntries.entries, as numbered in syncdiff.proto. */
const DIFF_REQUEST_ENTRIES_FIELD = 3;
const MANIFEST_ENTRIES_ENTRY_FIELD = 1;

/**
 * How many manifest entries the `entries` parts of an encoded DiffRequest hold, counted without
 * decoding them; counting stops once it passes `stopAbove`. Bytes that are not a message count
 * what they hold up to the fault (the decoder then refuses them).
 */
export function manifestEntriesIn(bytes: Uint8Array, stopAbove = Infinity): number {
  let count = 0;
  try {
    const request = new BinaryReader(bytes);
    while (request.pos < request.len) {
      const [field, wireType] = request.tag();
      if (field !== DIFF_REQUEST_ENTRIES_FIELD || wireType !== WireType.LengthDelimited) {
        request.skip(wireType, field);
        continue;
      }
      const entries = new BinaryReader(request.bytes());
      while (entries.pos < entries.len) {
        const [inner, innerType] = entries.tag();
        entries.skip(innerType, inner);
        if (inner === MANIFEST_ENTRIES_ENTRY_FIELD && ++count > stopAbove) return count;
      }
    }
  } catch {
    // Not a message: the decoder says so.
  }
  return count;
}

/**
 * SyncDiffService with Diff's requests counted before they are decoded. An `entries` message of a
 * few bytes per entry (an empty ManifestEntry is 2 bytes) would decode up to 16 MiB into millions
 * of objects, hundreds of MiB of heap from one message of any signed-in user; past
 * LIMITS.maxManifestEntriesPerMessage the request is refused undecoded, and the server answers
 * INVALID_ARGUMENT (withUndecodableRequests in @filesync/server-kit).
 */
export const guardedSyncDiffDefinition: typeof syncdiff.SyncDiffServiceService = {
  ...syncdiff.SyncDiffServiceService,
  diff: {
    ...syncdiff.SyncDiffServiceService.diff,
    requestDeserialize: (bytes: Buffer): syncdiff.DiffRequest => {
      const max = LIMITS.maxManifestEntriesPerMessage;
      if (manifestEntriesIn(bytes, max) > max) {
        throw new Error(`an \`entries\` message holds more than ${max} manifest entries`);
      }
      return syncdiff.SyncDiffServiceService.diff.requestDeserialize(bytes);
    },
  },
};
