/** What the commit order needs to know of a pending change. */
export interface CommitUnitOf {
  readonly kind: 'upload' | 'delete';
  readonly path: string;
  /** Bytes to upload (0 for a deletion). */
  readonly size: number;
  /** Upload: the new content's hash. Delete: the hash of the synced content it removes ('' if unknown). */
  readonly contentHash: string;
}

/**
 * Splits a pass's changes into CommitFiles batches of at most `maxPerBatch` changes.
 *
 * Smallest first, so the commits of many small files overlap the upload of a large one. A
 * deletion whose synced content is uploaded at another path in the same pass is a move: it goes in
 * the same batch as that upload, right before it, because the server's mass-delete rule excuses a
 * deletion only when its move partner is in the same request (a renamed folder is not a wipe).
 * Each upload is the partner of one deletion at most.
 */
export function commitBatches<T>(
  changes: readonly T[],
  describe: (change: T) => CommitUnitOf,
  maxPerBatch: number,
): T[][] {
  if (maxPerBatch < 2) throw new RangeError('a batch must hold a move: at least 2 changes');
  const described = changes.map((change) => ({ change, info: describe(change) }));
  const uploadsByHash = new Map<string, (typeof described)[number][]>();
  for (const item of described) {
    if (item.info.kind !== 'upload') continue;
    const list = uploadsByHash.get(item.info.contentHash) ?? [];
    list.push(item);
    uploadsByHash.set(item.info.contentHash, list);
  }
  const paired = new Set<T>();
  const units: { size: number; members: T[] }[] = [];
  for (const item of described) {
    if (item.info.kind !== 'delete' || item.info.contentHash === '') continue;
    const candidates = uploadsByHash.get(item.info.contentHash) ?? [];
    const partner = candidates.find(
      (upload) => !paired.has(upload.change) && upload.info.path !== item.info.path,
    );
    if (!partner) continue;
    paired.add(partner.change);
    paired.add(item.change);
    units.push({ size: partner.info.size, members: [item.change, partner.change] });
  }
  for (const item of described) {
    if (!paired.has(item.change)) units.push({ size: item.info.size, members: [item.change] });
  }
  // Stable: changes of equal size keep the order they came in.
  units.sort((a, b) => a.size - b.size);

  const batches: T[][] = [];
  let current: T[] = [];
  for (const unit of units) {
    if (current.length + unit.members.length > maxPerBatch) {
      batches.push(current);
      current = [];
    }
    current.push(...unit.members);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
