import pino, { type Logger } from 'pino';

/** How the CLI logs: `-v` (repeatable) and `--log-file`, over FILESYNC_LOG_LEVEL. */
export interface LogOptions {
  /** How many `-v`: 1 info, 2 or more debug. */
  readonly verbose: number;
  /** Append JSON lines to this file instead of writing to stderr. */
  readonly logFile?: string | undefined;
  /**
   * Runs each write of a human line to the terminal: a progress line drawn there clears itself
   * around it (ProgressDisplay.interleave).
   */
  readonly onTerminal?: ((write: () => void) => void) | undefined;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** pino's own fields, not worth a human's look on every line. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

/** The level from the options: -v info, -vv debug; otherwise FILESYNC_LOG_LEVEL, then warn. */
export function logLevel(options: LogOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (options.verbose >= 2) return 'debug';
  if (options.verbose === 1) return 'info';
  return env.FILESYNC_LOG_LEVEL || 'warn';
}

/**
 * One pino JSON line as a person reads it: `12:04:05 WARN message path="a.txt" copy="..."`.
 * A line that is not JSON passes through as it is.
 */
export function humanLogLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toTimeString().slice(0, 8) : '';
  const level = LEVEL_NAMES[Number(entry.level)] ?? String(entry.level ?? '');
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  return `${[time, level, String(entry.msg ?? ''), ...fields].filter((part) => part !== '').join(' ')}\n`;
}

function fieldText(value: unknown): string {
  if (value && typeof value === 'object' && 'message' in value)
    return JSON.stringify((value as Error).message);
  return JSON.stringify(value) ?? String(value);
}

/**
 * The CLI's logger: JSON lines appended to `--log-file`, or to stderr; on a terminal (no log
 * file) the lines are made human by humanLogLine. pino-pretty would do it too, but it brings
 * a dozen packages into a bundle that has no runtime dependencies, for one line of formatting.
 */
export function cliLogger(options: LogOptions): Logger {
  const level = logLevel(options);
  const base = { name: 'filesync', level };
  // Written synchronously: a line logged just before Ctrl-C ends the process still lands.
  if (options.logFile)
    return pino(base, pino.destination({ dest: options.logFile, append: true, sync: true }));
  if (process.stderr.isTTY) {
    const around = options.onTerminal ?? ((write: () => void) => write());
    return pino(base, {
      write: (line: string) => around(() => process.stderr.write(humanLogLine(line))),
    });
  }
  return pino(base, pino.destination(2));
}
