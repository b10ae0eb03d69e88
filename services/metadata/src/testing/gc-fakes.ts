/**
 * In-memory fakes of the garbage collector's ports for unit tests (no network, no AWS). Their
 * conditional mutations check the same conditions the DynamoDB adapter writes.
 */
import type {
  BlockListPartRecord,
  BlockLocation,
  BlockRecord,
  GcIndex,
  GcStorage,
  PackRecord,
  ReferencingEntry,
  StoredObject,
} from '../gc/ports';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class FakeGcIndex implements GcIndex {
  readonly heads = new Set<string>();
  readonly entries = new Map<string, ReferencingEntry[]>();
  readonly blockItems = new Map<string, Map<string, Mutable<BlockRecord>>>();
  readonly packItems = new Map<string, Map<string, Mutable<PackRecord>>>();
  /** `<contentHash>#<index>` -> hashes and condemnation of each BLOCKLIST# part. */
  readonly listParts = new Map<string, Map<string, { hashes: string[]; condemnedAtMs?: number }>>();
  /** Runs after the reference scan has read every entry: lets a test play a concurrent commit. */
  afterReferenceScan: (() => Promise<void> | void) | undefined;

  private of<T>(map: Map<string, Map<string, T>>, ns: string): Map<string, T> {
    let inner = map.get(ns);
    if (!inner) map.set(ns, (inner = new Map()));
    return inner;
  }

  addEntry(ns: string, entry: ReferencingEntry): void {
    this.heads.add(ns);
    const list = this.entries.get(ns) ?? [];
    list.push(entry);
    this.entries.set(ns, list);
  }
  addBlock(ns: string, block: BlockRecord): void {
    this.heads.add(ns);
    this.of(this.blockItems, ns).set(block.hash, { ...block });
  }
  addPack(ns: string, pack: PackRecord): void {
    this.heads.add(ns);
    this.of(this.packItems, ns).set(pack.packId, { ...pack });
  }
  addBlockList(ns: string, contentHash: string, parts: string[][]): void {
    parts.forEach((hashes, index) => this.of(this.listParts, ns).set(`${contentHash}#${index}`, { hashes }));
  }
  block(ns: string, hash: string): BlockRecord | undefined {
    return this.of(this.blockItems, ns).get(hash);
  }
  pack(ns: string, packId: string): PackRecord | undefined {
    return this.of(this.packItems, ns).get(packId);
  }

  async *namespaces() {
    yield* [...this.heads];
  }
  async *referencingEntries(ns: string) {
    yield* [...(this.entries.get(ns) ?? [])];
    await this.afterReferenceScan?.();
  }
  async blockList(ns: string, contentHash: string, parts: number) {
    const hashes: string[] = [];
    for (let index = 0; index < parts; index += 1) {
      const part = this.of(this.listParts, ns).get(`${contentHash}#${index}`);
      if (!part) throw new Error(`block list ${contentHash} lacks part ${index}`);
      hashes.push(...part.hashes);
    }
    return hashes;
  }
  async *blocks(ns: string) {
    yield* [...this.of(this.blockItems, ns).values()].map((block) => ({ ...block }));
  }
  async *packs(ns: string) {
    yield* [...this.of(this.packItems, ns).values()].map((pack) => ({ ...pack }));
  }
  async *blockListParts(ns: string) {
    for (const [key, part] of this.of(this.listParts, ns)) {
      const [contentHash, index] = key.split('#');
      yield {
        contentHash: contentHash!,
        index: Number(index),
        ...(part.condemnedAtMs === undefined ? {} : { condemnedAtMs: part.condemnedAtMs }),
      };
    }
  }
  async hasPack(ns: string, packId: string) {
    return this.of(this.packItems, ns).has(packId);
  }
  async condemnBlock(ns: string, hash: string, atMs: number) {
    const item = this.of(this.blockItems, ns).get(hash);
    if (!item || item.condemnedAtMs !== undefined) return false;
    item.condemnedAtMs = atMs;
    return true;
  }
  async reviveBlock(ns: string, hash: string, seen: number) {
    const item = this.of(this.blockItems, ns).get(hash);
    if (!item || item.condemnedAtMs !== seen) return false;
    delete item.condemnedAtMs;
    return true;
  }
  async deleteBlock(ns: string, hash: string, seen: number) {
    const item = this.of(this.blockItems, ns).get(hash);
    if (!item || item.condemnedAtMs !== seen) return false;
    this.of(this.blockItems, ns).delete(hash);
    return true;
  }
  async moveBlock(ns: string, hash: string, fromPack: string, to: BlockLocation) {
    const item = this.of(this.blockItems, ns).get(hash);
    if (!item || item.pack !== fromPack || item.condemnedAtMs !== undefined) return false;
    Object.assign(item, to);
    return true;
  }
  async putPack(ns: string, pack: PackRecord) {
    this.of(this.packItems, ns).set(pack.packId, { ...pack });
  }
  async retirePack(ns: string, packId: string, atMs: number) {
    const item = this.of(this.packItems, ns).get(packId);
    if (item) item.retiredAtMs = atMs;
  }
  async deletePack(ns: string, pack: PackRecord) {
    const item = this.of(this.packItems, ns).get(pack.packId);
    if (!item || item.createdAtMs !== pack.createdAtMs || item.retiredAtMs !== pack.retiredAtMs) return false;
    this.of(this.packItems, ns).delete(pack.packId);
    return true;
  }
  async condemnBlockListPart(ns: string, part: BlockListPartRecord, atMs: number) {
    const item = this.of(this.listParts, ns).get(`${part.contentHash}#${part.index}`);
    if (!item || item.condemnedAtMs !== undefined) return false;
    item.condemnedAtMs = atMs;
    return true;
  }
  async reviveBlockListPart(ns: string, part: BlockListPartRecord, seen: number) {
    const item = this.of(this.listParts, ns).get(`${part.contentHash}#${part.index}`);
    if (!item || item.condemnedAtMs !== seen) return false;
    delete item.condemnedAtMs;
    return true;
  }
  async deleteBlockListPart(ns: string, part: BlockListPartRecord, seen: number) {
    const key = `${part.contentHash}#${part.index}`;
    const item = this.of(this.listParts, ns).get(key);
    if (!item || item.condemnedAtMs !== seen) return false;
    this.of(this.listParts, ns).delete(key);
    return true;
  }
}

/** Objects by full key: `packs/<id>` and `blocks/<hash>` per namespace. */
export class FakeGcStorage implements GcStorage {
  readonly objects = new Map<string, { bytes: Buffer; lastModifiedMs: number }>();
  readonly ranges: { packId: string; offset: number; length: number }[] = [];

  constructor(private readonly clock: { now(): number }) {}

  put(
    ns: string,
    kind: 'packs' | 'blocks',
    name: string,
    bytes: Uint8Array,
    lastModifiedMs = this.clock.now(),
  ) {
    this.objects.set(`${ns}/${kind}/${name}`, { bytes: Buffer.from(bytes), lastModifiedMs });
  }
  has(ns: string, kind: 'packs' | 'blocks', name: string): boolean {
    return this.objects.has(`${ns}/${kind}/${name}`);
  }
  get(ns: string, kind: 'packs' | 'blocks', name: string): Buffer | undefined {
    return this.objects.get(`${ns}/${kind}/${name}`)?.bytes;
  }
  names(ns: string, kind: 'packs' | 'blocks'): string[] {
    const prefix = `${ns}/${kind}/`;
    return [...this.objects.keys()]
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length));
  }

  private *list(ns: string, kind: 'packs' | 'blocks'): Iterable<StoredObject> {
    for (const name of this.names(ns, kind)) {
      const object = this.objects.get(`${ns}/${kind}/${name}`)!;
      yield { name, size: object.bytes.byteLength, lastModifiedMs: object.lastModifiedMs };
    }
  }
  async *packObjects(ns: string) {
    yield* [...this.list(ns, 'packs')];
  }
  async *legacyBlockObjects(ns: string) {
    yield* [...this.list(ns, 'blocks')];
  }
  async readPackRange(ns: string, packId: string, offset: number, length: number) {
    this.ranges.push({ packId, offset, length });
    const object = this.get(ns, 'packs', packId);
    if (!object) throw new Error(`no pack ${packId}`);
    return object.subarray(offset, offset + length);
  }
  async writePack(ns: string, packId: string, parts: readonly Uint8Array[]) {
    this.put(ns, 'packs', packId, Buffer.concat(parts.map((part) => Buffer.from(part))));
  }
  async deletePackObject(ns: string, packId: string) {
    this.objects.delete(`${ns}/packs/${packId}`);
  }
  async deleteLegacyBlock(ns: string, hash: string) {
    const size = this.get(ns, 'blocks', hash)?.byteLength ?? 0;
    this.objects.delete(`${ns}/blocks/${hash}`);
    return size;
  }
}
