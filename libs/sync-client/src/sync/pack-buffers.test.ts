import { BufferPool, PACK_BUFFERS, packBufferBytes } from './pack-buffers';

/** Unit tests of the pass's buffer pool (no ports involved). */
describe('BufferPool', () => {
  it('makes at most `count` buffers, reuses what is given back, and serves waiters in order', async () => {
    const pool = new BufferPool(2, 16);
    const a = await pool.take();
    const b = await pool.take();
    expect(pool.allocated).toBe(2);
    const order: string[] = [];
    const third = pool.take().then((buffer) => (order.push('third'), buffer));
    const fourth = pool.take().then((buffer) => (order.push('fourth'), buffer));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    pool.give(b);
    pool.give(a);
    expect(await third).toBe(b);
    expect(await fourth).toBe(a);
    expect(order).toEqual(['third', 'fourth']);
    expect(pool.allocated).toBe(2);
  });

  it('ignores a buffer that is not one of its size (detached by a transfer, or foreign)', async () => {
    const pool = new BufferPool(1, 16);
    await pool.take();
    pool.give(new ArrayBuffer(8));
    let served = false;
    void pool.take().then(() => (served = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(served).toBe(false);
  });

  it('lets waiters have new buffers for those that will never come back, and drops one that does after all', async () => {
    const pool = new BufferPool(1, 16);
    const lost = await pool.take();
    const waiting = pool.take();
    pool.forget(1);
    const replacement = await waiting;
    expect(replacement).not.toBe(lost);
    expect(pool.allocated).toBe(1);
    pool.give(replacement);
    pool.give(lost);
    // Still one buffer: the pool hands out the one it keeps, and then makes callers wait.
    expect(await pool.take()).toBe(replacement);
    let served = false;
    void pool.take().then(() => (served = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(served).toBe(false);
  });

  it('sizes a buffer for any pack: the target or one largest block, and the largest trailer', () => {
    expect(packBufferBytes(1024)).toBeGreaterThan(4 * 1024 * 1024);
    expect(packBufferBytes(64 * 1024 * 1024)).toBeGreaterThan(64 * 1024 * 1024);
    expect(PACK_BUFFERS).toBeGreaterThanOrEqual(3);
  });
});
