import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EmulatorPorts } from './emulators';
import type { LogSink } from './processes';
import { signingKeyFile, startStack, type RunningStack } from './stack';

/** What a test harness asks of the runner (argv[2], JSON). */
export interface RunnerRequest {
  readonly basePort: number;
  readonly emulatorPorts: EmulatorPorts;
  readonly stateDir: string;
  /** Written (atomically) once everything is up: a StackInfo document. */
  readonly infoFile: string;
  /** Every child's output lines go here. */
  readonly logFile: string;
  /** See BootstrapOptions. */
  readonly queueVisibilityTimeoutSeconds?: number;
}

/** The stack as tests see it. */
export interface StackInfo {
  readonly server: string;
  readonly services: RunningStack['endpoints']['services'];
  readonly emulators: RunningStack['endpoints']['emulators'];
  readonly mailboxUrl: string;
  readonly resources: RunningStack['resources'];
  readonly logFile: string;
  /** auth's signing key (PKCS#8 PEM file), for tests that need an otherwise valid but expired token. */
  readonly signingKeyFile: string;
  readonly pid: number;
}

function fileSink(file: string): LogSink {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  return (name, line) => appendFileSync(file, `[${name}] ${line}\n`);
}

/**
 * Runs a stack for a test harness in a process of its own, so the harness needs no TypeScript
 * path mapping: it starts us, waits for the info file and sends SIGTERM when done. A closed stdin
 * means the harness died, which stops the stack too.
 */
export async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as RunnerRequest;
  const stack = await startStack({
    basePort: request.basePort,
    emulatorPorts: request.emulatorPorts,
    stateDir: request.stateDir,
    // Persisted in stateDir so tests can sign tokens auth would accept but for one defect (expiry).
    persistent: true,
    sink: fileSink(request.logFile),
    ...(request.queueVisibilityTimeoutSeconds
      ? { queueVisibilityTimeoutSeconds: request.queueVisibilityTimeoutSeconds }
      : {}),
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.on('error', () => void stop());
  process.stdin.resume();

  const info: StackInfo = {
    server: stack.server,
    services: stack.endpoints.services,
    emulators: stack.endpoints.emulators,
    mailboxUrl: stack.mailboxUrl,
    resources: stack.resources,
    logFile: request.logFile,
    signingKeyFile: signingKeyFile(request.stateDir),
    pid: process.pid,
  };
  mkdirSync(dirname(request.infoFile), { recursive: true });
  writeFileSync(`${request.infoFile}.tmp`, JSON.stringify(info, null, 2));
  renameSync(`${request.infoFile}.tmp`, request.infoFile);
}
