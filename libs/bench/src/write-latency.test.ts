import { percentile, summarizeLatencies } from './write-latency';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, index) => index + 1);

  it('picks the value at or below which the fraction lies', () => {
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 1)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe('summarizeLatencies', () => {
  it('sorts, rounds to whole milliseconds and counts the writes', () => {
    const latencies = Array.from({ length: 200 }, (_, index) => 200 - index + 0.4);
    expect(summarizeLatencies(latencies)).toEqual({ writes: 200, p50Ms: 100, p99Ms: 198, worstMs: 200 });
  });

  it('says NaN, not zero, when nothing was measured', () => {
    expect(summarizeLatencies([])).toEqual({ writes: 0, p50Ms: NaN, p99Ms: NaN, worstMs: NaN });
  });
});
