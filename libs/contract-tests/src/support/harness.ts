import { join } from 'node:path';
import { harnessDir, readRunnerInfo, repoRootOf } from '@filesync/test-support/runner';

type ServiceKey = 'auth' | 'metadata' | 'sync-diff' | 'notifier';

/**
 * Below 32768, Linux's ephemeral range (an outgoing connection may hold a port there when we
 * bind it). Away from `npm start` (4566, 50051...) and the integration tier (14566, 21051...). */
export const CONTRACT_PORTS = {
  basePort: 22051,
  emulatorPorts: { moto: 24566, dynamodb: 28000, ses: 28005 },
  /** Extra containers started by the drain tests, at basePort + 0..3 like the main ones. */
  drainBasePort: 22061,
} as const;

/**
 * Testcontainers' reaper image cannot be pulled here (no registry), and inside a container it
 * looks for the `bridge` network's gateway, which a dockerd without a bridge lacks: with host
 * networking every container is on 127.0.0.1 anyway. Explicit settings win.
 */
export function useLocalDocker(): void {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}

export function contractDir(root = repoRootOf()): string {
  return harnessDir('contract', root);
}

/** Where the runner writes the running stack's endpoints. */
export function stackInfoFile(root = repoRootOf()): string {
  return join(contractDir(root), 'stack.json');
}

/** What global setup asks of the runner (argv[2], JSON). */
export interface RunnerRequest {
  readonly basePort: number;
  readonly emulatorPorts: { readonly moto: number; readonly dynamodb: number; readonly ses: number };
  readonly infoFile: string;
  /** Emulator output and one <service>.log per container go here. */
  readonly logDir: string;
}

/** The running stack as the tests see it. */
export interface ContractStack {
  /** host:port of each service container's gRPC server. */
  readonly services: Readonly<Record<ServiceKey, string>>;
  readonly emulators: { readonly moto: string; readonly dynamodb: string; readonly ses: string };
  readonly resources: {
    readonly region: string;
    readonly bucket: string;
    readonly queueUrl: string;
    readonly storageRoleArn: string;
  };
  /**
   * The environment each container runs with, its own access key included (emulator keys, never
   * real ones), so a test can start one more instance of a service.
   */
  readonly environments: Readonly<Record<ServiceKey, Readonly<Record<string, string>>>>;
  /**
   * The access key of the storage garbage collector's task role (GARBAGE_COLLECTOR_PERMISSIONS);
   * no container holds it, the tests probe with it.
   */
  readonly collector: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** An emulator user allowed everything, for looking at queues and probing denials; never a service's. */
  readonly observer: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly images: Readonly<Record<ServiceKey, string>>;
  readonly logDir: string;
  readonly pid: number;
}

export function readContractStack(): ContractStack {
  return readRunnerInfo<ContractStack>(stackInfoFile());
}
