import { comparePaths } from '@filesync/sync-core';
import { ORDER_PREFIX_BYTES } from './keys';

// The listing order is comparePaths' (UTF-8 byte order, how DynamoDB orders string sort keys).

const groupOf = (path: string) =>
  Buffer.from(path, 'utf8').subarray(0, ORDER_PREFIX_BYTES).toString('latin1');

/**
 * Restores exact path order from items in key order (issue 6, kind 9). Keys sort like paths
 * except among paths sharing their first ORDER_PREFIX_BYTES bytes (long paths are keyed by a
 * digest after those bytes), and such paths are contiguous in key order: only that group is
 * buffered and sorted, so memory is bounded by the largest group, not the namespace.
 */
export async function* inPathOrder<T>(
  pages: AsyncIterable<readonly T[]>,
  pathOf: (item: T) => string,
): AsyncIterable<T[]> {
  let group: T[] = [];
  let groupKey: string | undefined;
  for await (const page of pages) {
    const ready: T[] = [];
    for (const item of page) {
      const key = groupOf(pathOf(item));
      if (key !== groupKey) {
        ready.push(...sortGroup(group, pathOf));
        group = [];
        groupKey = key;
      }
      group.push(item);
    }
    if (ready.length > 0) yield ready;
  }
  if (group.length > 0) yield sortGroup(group, pathOf);
}

function sortGroup<T>(group: T[], pathOf: (item: T) => string): T[] {
  return group.length < 2 ? group : group.sort((a, b) => comparePaths(pathOf(a), pathOf(b)));
}
