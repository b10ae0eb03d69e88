import { PackRegistrar } from './pack-registrar';
import type { PackRecord } from './remote';

// Unit tests with a small fake of SyncRemote.registerPacks (records calls, held or failing).
const pack = (id: string): PackRecord => ({
  packId: id,
  size: 10,
  blocks: [{ hash: `h-${id}`, offset: 0, length: 1 }],
});

describe('PackRegistrar', () => {
  it('keeps one request in flight and sends the packs stored meanwhile together in the next', async () => {
    const calls: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const remote = {
      registerPacks: async (_ns: string, packs: readonly PackRecord[]) => {
        calls.push(packs.map((p) => p.packId));
        if (calls.length === 1) await held;
      },
    };
    const settled: [string[], unknown][] = [];
    const registrar = new PackRegistrar(remote, 'ns', (packs, failure) =>
      settled.push([packs.map((p) => p.packId), failure]),
    );
    registrar.add(pack('a'));
    registrar.add(pack('b'));
    registrar.add(pack('c'));
    release();
    await registrar.drained();
    expect(calls).toEqual([['a'], ['b', 'c']]);
    expect(settled).toEqual([
      [['a'], undefined],
      [['b', 'c'], undefined],
    ]);
  });

  it('reports a failed request with its error and goes on with the next packs', async () => {
    let calls = 0;
    const remote = {
      registerPacks: async () => {
        calls += 1;
        if (calls === 1) throw new Error('server said no');
      },
    };
    const settled: unknown[] = [];
    const registrar = new PackRegistrar(remote, 'ns', (_packs, failure) => settled.push(failure));
    registrar.add(pack('a'));
    await registrar.drained();
    registrar.add(pack('b'));
    await registrar.drained();
    expect(settled).toEqual([new Error('server said no'), undefined]);
  });
});
