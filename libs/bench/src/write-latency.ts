// The write loop every tool of `npm run bench:watch` is timed with, and its summary.
import { readFile, writeFile } from 'node:fs/promises';

/** How long the first write may take to arrive: it also waits for the tool to settle. */
export const WARM_UP_TIMEOUT_MS = 60_000;
/** How long one timed write may take to arrive before the run fails. */
export const WRITE_TIMEOUT_MS = 30_000;

/** The value below which `fraction` of the sorted values lie (nearest rank). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

/** What a report says about one tool's latencies, whole milliseconds (NaN when there are none). */
export interface LatencySummary {
  readonly writes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly worstMs: number;
}

/** p50, p99 (nearest rank) and the worst of `latenciesMs`, in any order. */
export function summarizeLatencies(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    writes: sorted.length,
    p50Ms: Math.round(percentile(sorted, 0.5)),
    p99Ms: Math.round(percentile(sorted, 0.99)),
    worstMs: Math.round(sorted.at(-1) ?? Number.NaN),
  };
}

/** Resolves once `check` holds (polled every `everyMs`), or rejects after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const contentIs = (path: string, expected: string) => () =>
  readFile(path, 'utf8').then(
    (text) => text === expected,
    () => false,
  );

export interface TimeWritesOptions {
  /** The file written on device 1. */
  readonly source: string;
  /** The same file on device 2, polled every 2 ms until it holds what was written. */
  readonly target: string;
  readonly writes: number;
  /** Progress lines, every 50 writes. */
  readonly progress: (line: string) => void;
}

/**
 * One warm-up write (allowed WARM_UP_TIMEOUT_MS, not timed), then `writes` rewrites of `source`,
 * each after the previous one arrived; a write's latency runs from just before writeFile until
 * `target` holds the new content. Rejects if one write takes over WRITE_TIMEOUT_MS.
 * Returns the latencies in write order, milliseconds (fractional).
 */
export async function timeWrites(options: TimeWritesOptions): Promise<number[]> {
  const { source, target } = options;
  await writeFile(source, 'warm-up');
  await until(contentIs(target, 'warm-up'), WARM_UP_TIMEOUT_MS);
  const latencies: number[] = [];
  for (let index = 1; index <= options.writes; index++) {
    const content = `write ${index} at ${Date.now()}\n`;
    const startedMs = performance.now();
    await writeFile(source, content);
    try {
      await until(contentIs(target, content), WRITE_TIMEOUT_MS);
    } catch (error) {
      throw new Error(`write ${index} did not arrive: ${(error as Error).message}`);
    }
    latencies.push(performance.now() - startedMs);
    if (index % 50 === 0) options.progress(`  ${index} writes, last ${latencies.at(-1)!.toFixed(0)} ms`);
  }
  return latencies;
}
