import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One run of a client command: wall time and what the client process itself cost. */
export interface CommandCost {
  readonly seconds: number;
  /** Peak resident set of the client process (its high-water mark), bytes; undefined if unknown. */
  readonly peakRssBytes: number | undefined;
  /** User + system CPU seconds of the client process; undefined if unknown. */
  readonly cpuSeconds: number | undefined;
  readonly stdout: string;
}

const GNU_TIME = '/usr/bin/time';
let statsFiles = 0;

/**
 * Runs `command args` to completion and measures it. With GNU time (`/usr/bin/time`, Debian
 * package `time`) the peak RSS and CPU come from the kernel's accounting of the finished process;
 * without it, the process's VmHWM is sampled from /proc every 100 ms (a high-water mark, so only
 * growth in the last 100 ms could be missed) and CPU is unknown. Throws on a non-zero exit, with
 * the end of its stderr.
 */
export async function measure(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<CommandCost> {
  const gnuTime = existsSync(GNU_TIME);
  const statsFile = join(tmpdir(), `filesync-bench-time-${process.pid}-${++statsFiles}`);
  const [file, argv] = gnuTime
    ? [GNU_TIME, ['-f', '%M %U %S', '-o', statsFile, command, ...args]]
    : [command, [...args]];
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  let sampledHwmBytes: number | undefined;
  const sampler = gnuTime
    ? undefined
    : setInterval(() => {
        readFile(`/proc/${child.pid}/status`, 'utf8').then(
          (status) => {
            const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
            if (kb) sampledHwmBytes = Math.max(sampledHwmBytes ?? 0, Number(kb) * 1024);
          },
          () => undefined,
        );
      }, 100);
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
  }).finally(() => clearInterval(sampler));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let peakRssBytes = sampledHwmBytes;
  let cpuSeconds: number | undefined;
  if (gnuTime) {
    // The last line: GNU time puts "Command exited with non-zero status N" before it.
    const stats = (await readFile(statsFile, 'utf8').catch(() => '')).trim().split('\n').at(-1) ?? '';
    await rm(statsFile, { force: true });
    const [kb, user, system] = stats.split(' ').map(Number);
    if (kb !== undefined && Number.isFinite(kb)) peakRssBytes = kb * 1024;
    if (user !== undefined && system !== undefined && Number.isFinite(user + system))
      cpuSeconds = user + system;
  }
  if (code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr.trim()}`);
  }
  return { seconds, peakRssBytes, cpuSeconds, stdout: Buffer.concat(stdout).toString() };
}
