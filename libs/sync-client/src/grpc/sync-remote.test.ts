// Unit test: GrpcSyncRemote.diff against a small fake of grpc-js's duplex call (object mode, as
// the generated client's stream is); the real service is in the integration tier.
import { Duplex } from 'node:stream';
import type { syncdiff } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import type { ManifestEntry } from '../sync/model';
import type { ServiceClients } from './clients';
import { GrpcSyncRemote, ManifestBatchesUnsupportedError } from './sync-remote';

/** A Diff call that records what the client writes and answers a summary once it half-closes. */
function fakeDiffCall(written: syncdiff.DiffRequest[]): Duplex {
  const call = new Duplex({
    objectMode: true,
    read() {},
    write(request: syncdiff.DiffRequest, _encoding, done) {
      written.push(request);
      done();
    },
    final(done) {
      const summary: syncdiff.DiffSummary = {
        cursor: 7,
        entriesReceived: 0,
        actionsSent: 0,
        fullDiffRequired: false,
        incremental: false,
        remoteRoot: '',
        resumeAfter: '',
      };
      call.push({ message: { $case: 'summary', value: summary } } satisfies syncdiff.DiffResponse);
      call.push(null);
      done();
    },
  });
  return Object.assign(call, { cancel: () => call.destroy() });
}

function remoteWith(written: syncdiff.DiffRequest[]): GrpcSyncRemote {
  const clients = { syncDiff: { diff: () => fakeDiffCall(written) } } as unknown as ServiceClients;
  return new GrpcSyncRemote(clients, async () => 'token');
}

const entry = (index: number): ManifestEntry => ({
  path: `f${String(index).padStart(6, '0')}`,
  contentHash: 'a'.repeat(64),
  size: index,
  baseVersion: 0,
  baseContentHash: '',
  deleted: false,
});

describe('GrpcSyncRemote.diff', () => {
  it('streams the manifest in `entries` messages of at most the limit, in order, after `start`', async () => {
    const written: syncdiff.DiffRequest[] = [];
    const count = 2 * LIMITS.maxManifestEntriesPerMessage + 201;
    const manifest = Array.from({ length: count }, (_, index) => entry(index));
    const outcome = await remoteWith(written).diff('ns-1', manifest, { sinceCursor: 3 });

    expect(outcome.cursor).toBe(7);
    expect(written[0]?.message).toMatchObject({
      $case: 'start',
      value: { namespaceId: 'ns-1', sinceCursor: 3 },
    });
    const batches = written.slice(1).map((request) => {
      if (request.message?.$case !== 'entries')
        throw new Error(`not an entries message: ${request.message?.$case}`);
      return request.message.value.entries;
    });
    expect(batches.map((batch) => batch.length)).toEqual([
      LIMITS.maxManifestEntriesPerMessage,
      LIMITS.maxManifestEntriesPerMessage,
      201,
    ]);
    expect(batches.flat().map((sent) => sent.path)).toEqual(manifest.map((sent) => sent.path));
    expect(batches.flat()[5]).toEqual({ ...manifest[5] });
  });

  it('sends no `entries` message for an empty manifest (an incremental diff with nothing changed)', async () => {
    const written: syncdiff.DiffRequest[] = [];
    await remoteWith(written).diff('ns-1', [], { sinceCursor: 3 });
    expect(written.map((request) => request.message?.$case)).toEqual(['start']);
  });

  it('says the server is too old when a sync-diff from before `entries` refuses the batch', async () => {
    const refusing = (details: string) => {
      const call = new Duplex({
        objectMode: true,
        read() {},
        write(request: syncdiff.DiffRequest, _encoding, done) {
          if (request.message?.$case === 'entries') {
            call.destroy(Object.assign(new Error(`3 INVALID_ARGUMENT: ${details}`), { code: 3, details }));
          }
          done();
        },
      });
      return Object.assign(call, { cancel: () => call.destroy() });
    };
    const remote = (details: string) =>
      new GrpcSyncRemote(
        { syncDiff: { diff: () => refusing(details) } } as unknown as ServiceClients,
        async () => 'token',
      );
    await expect(
      remote('after `start`, every Diff message must be an `entry`').diff('ns-1', [entry(1)]),
    ).rejects.toThrow(ManifestBatchesUnsupportedError);
    // Today's server refusing a bad batch is not an old server.
    await expect(
      remote('after `start`, every Diff message must be an `entry` or `entries`').diff('ns-1', [entry(1)]),
    ).rejects.toMatchObject({ code: 3 });
  });
});
