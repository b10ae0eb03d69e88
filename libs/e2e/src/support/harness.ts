// Shared by global setup (which jest loads without path mapping: node built-ins only here) and
// the tests.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Ports away from `npm start`'s defaults, so a running local stack does not collide. */
export const TEST_PORTS = {
  basePort: 51051,
  emulatorPorts: { moto: 14566, dynamodb: 18000, ses: 18005 },
} as const;

export function repoRootOf(from = process.cwd()): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json at or above ${from}`);
  }
}

export function harnessDir(root = repoRootOf()): string {
  return join(root, '.local', 'e2e');
}

/** Where global setup writes the running stack's endpoints (env set there does not reach workers). */
export function stackInfoFile(root = repoRootOf()): string {
  return join(harnessDir(root), 'stack.json');
}

/** The fields of the runner's StackInfo the tests use. */
export interface TestStack {
  readonly server: string;
  readonly services: { auth: string; metadata: string; 'sync-diff': string; notifier: string };
  readonly emulators: { moto: string; dynamodb: string; ses: string };
  readonly mailboxUrl: string;
  readonly resources: {
    region: string;
    bucket: string;
    queueUrl: string;
    deadLetterQueueUrl: string;
    tables: { auth: string; metadata: string; outbox: string; notifier: string };
  };
  readonly logFile: string;
  readonly signingKeyFile: string;
}

export function readTestStack(): TestStack {
  return JSON.parse(readFileSync(stackInfoFile(), 'utf8')) as TestStack;
}
