/**
 * Random histories for the model tests, in the spirit of Dropbox's CanopyCheck: edits, deletions,
 * renames, file/folder swaps and reinstalls on a few devices, interleaved with passes (some of
 * which fail at a random call), then passes until nothing moves. Afterwards every device must
 * hold the server's tree, and every content a pass saw on a device must still be reachable: in a
 * file anywhere (a conflicted copy counts) or as a server version; unless a user destroyed it.
 *
 * Runs against any world: the in-memory ModelServer (unit tier) or the real local stack (libs/e2e).
 * Test-only, like the rest of testing/.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { chunkBuffer, contentHash } from '@filesync/sync-core';
import type { SyncSummary } from '../summary';

/** One device of a history. */
export interface ModelDevice {
  readonly id: string;
  /** The synced folder. */
  readonly root: string;
  /**
   * One pass (with the mass-delete guard confirmed: histories delete a lot); undefined when it
   * failed as a whole. `failRate` is the chance each server call fails, for worlds that can inject
   * failures.
   */
  sync(options: { readonly failRate: number; readonly full: boolean }): Promise<SyncSummary | undefined>;
  /** Forgets what the device knew of its folder (a reinstall); the files stay. */
  forget(): Promise<void>;
}

export interface ModelWorld {
  readonly devices: readonly ModelDevice[];
  /** The server's live files: path -> content. */
  serverTree(): Promise<Map<string, string>>;
  /** Content hashes of every version the server ever committed. */
  serverHistory(): Promise<Set<string>>;
}

export interface HistoryOptions {
  /** Random steps before settling. */
  readonly steps: number;
  /** Paths the steps touch: few, so devices collide; a file and a folder may share a name. */
  readonly paths?: readonly string[];
  /** Chance a server call of a random-phase pass fails. */
  readonly failRate?: number;
}

const DEFAULT_PATHS = ['a', 'b', 'd', 'd/a', 'd/e', 'd/e/f', 'e/g'];
/** Whole rounds of passes on every device, without failures, before the history must be quiet. */
const SETTLE_ROUNDS = 8;

/** mulberry32: a small seeded PRNG, so a seed replays the same history. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every regular file below `root`: path -> content. */
export function treeOf(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name);
      const path = prefix ? `${prefix}/${name}` : name;
      if (lstatSync(abs).isDirectory()) walk(abs, path);
      else files.set(path, readFileSync(abs, 'utf8'));
    }
  };
  walk(root, '');
  return files;
}

/** The content hash the server records for a file holding `text`. */
export const contentHashOf = (text: string) =>
  contentHash(chunkBuffer(Buffer.from(text)).map((chunk) => chunk.hash));

/**
 * Plays one history with `next` (the seed's PRNG, shared with the world's failure injection) and
 * returns what went wrong: nothing, or the problems followed by the history that led to them.
 */
export async function playHistory(
  world: ModelWorld,
  next: () => number,
  options: HistoryOptions,
): Promise<string[]> {
  const paths = options.paths ?? DEFAULT_PATHS;
  const failRate = options.failRate ?? 0.1;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const log: string[] = [];
  let written = 0;
  /** Contents some pass saw on disk. */
  const seen = new Set<string>();
  /** Contents a user overwrote or deleted on some device. */
  const discarded = new Set<string>();
  const discard = (target: string) => {
    if (!existsSync(target)) return;
    if (lstatSync(target).isDirectory())
      for (const content of treeOf(target).values()) discarded.add(content);
    else discarded.add(readFileSync(target, 'utf8'));
  };
  const at = (device: ModelDevice, path: string) => join(device.root, ...path.split('/'));
  const foldersAbove = (device: ModelDevice, path: string) => {
    const parts = path.split('/');
    return parts.slice(0, -1).map((_, depth) => at(device, parts.slice(0, depth + 1).join('/')));
  };

  const sync = async (device: ModelDevice, rate: number, full = false) => {
    for (const content of treeOf(device.root).values()) seen.add(content);
    const summary = await device.sync({ failRate: rate, full }).catch((error: unknown) => {
      log.push(`  ${device.id} pass threw: ${(error as Error).message.slice(0, 200)}`);
      return undefined;
    });
    if (summary && summary.failed.length > 0) {
      const failed = summary.failed.map((failure) => `${failure.path}: ${failure.reason}`).join('; ');
      log.push(`  ${device.id} pass left: ${failed.slice(0, 300)}`);
    }
    return summary;
  };

  const write = (device: ModelDevice, path: string) => {
    const target = at(device, path);
    // A user who wants a file where a folder is (or below what is a file) removes it first.
    discard(target);
    if (existsSync(target) && lstatSync(target).isDirectory()) rmSync(target, { recursive: true });
    for (const folder of foldersAbove(device, path)) {
      if (existsSync(folder) && !lstatSync(folder).isDirectory()) {
        discard(folder);
        rmSync(folder);
      }
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, `content ${++written} by ${device.id} at ${path}`);
  };

  for (let step = 0; step < options.steps; step++) {
    const device = pick(world.devices);
    const roll = next();
    const path = pick(paths);
    if (roll < 0.35) {
      log.push(`${device.id} writes ${path}`);
      write(device, path);
    } else if (roll < 0.45) {
      log.push(`${device.id} deletes ${path}`);
      discard(at(device, path));
      rmSync(at(device, path), { recursive: true, force: true });
    } else if (roll < 0.55) {
      const to = pick(paths);
      const source = at(device, path);
      const target = at(device, to);
      const free = foldersAbove(device, to).every(
        (folder) => !existsSync(folder) || lstatSync(folder).isDirectory(),
      );
      if (to !== path && existsSync(source) && !existsSync(target) && !to.startsWith(`${path}/`) && free) {
        log.push(`${device.id} renames ${path} to ${to}`);
        mkdirSync(dirname(target), { recursive: true });
        renameSync(source, target);
      }
    } else if (roll < 0.58) {
      log.push(`${device.id} forgets its sync state`);
      await device.forget();
    } else if (roll < 0.62) {
      log.push(`${device.id} syncs with a full diff`);
      await sync(device, failRate, true);
    } else {
      log.push(`${device.id} syncs (calls may fail)`);
      await sync(device, failRate);
    }
  }

  let settled = false;
  for (let round = 0; round < SETTLE_ROUNDS && !settled; round++) {
    settled = true;
    for (const device of world.devices) {
      log.push(`${device.id} syncs (settling)`);
      const summary = await sync(device, 0);
      const moved = summary
        ? summary.filesUploaded +
          summary.filesDownloaded +
          summary.moved +
          summary.deleted +
          summary.conflicts +
          summary.failed.length
        : 1;
      if (moved > 0) settled = false;
    }
  }

  const problems: string[] = [];
  if (!settled) problems.push(`the devices did not settle within ${SETTLE_ROUNDS} rounds`);
  const expected = await world.serverTree();
  const reachable = await world.serverHistory();
  for (const device of world.devices) {
    const actual = treeOf(device.root);
    for (const content of actual.values()) reachable.add(contentHashOf(content));
    const differs = [...new Set([...expected.keys(), ...actual.keys()])].filter(
      (path) => expected.get(path) !== actual.get(path),
    );
    if (differs.length > 0) problems.push(`${device.id} differs from the server at ${differs.join(', ')}`);
  }
  for (const content of seen) {
    if (!reachable.has(contentHashOf(content)) && !discarded.has(content))
      problems.push(`lost: "${content}"`);
  }
  return problems.length > 0 ? [...problems, 'history:', ...log] : [];
}
