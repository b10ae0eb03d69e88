import type { SyncPhase, SyncProgress } from '../sync/summary';
import { plural } from '../plural';

const LABELS: Record<SyncPhase, string> = {
  scanning: 'Scanning',
  comparing: 'Comparing',
  uploading: 'Uploading',
  committing: 'Committing',
  downloading: 'Downloading',
  done: 'Done',
};

/** Terminal control sequences (ECMA-48 / DEC private modes), written only to a terminal. */
const TERM = {
  hideCursor: '\x1b[?25l',
  showCursor: '\x1b[?25h',
  noWrap: '\x1b[?7l',
  wrap: '\x1b[?7h',
  clearLine: '\r\x1b[2K',
} as const;

/** Where a phase stands: what it counts, how far, since when. */
export interface PhaseState {
  readonly phase: SyncPhase;
  readonly unit: SyncProgress['unit'];
  readonly done: number;
  readonly total: number;
  /** When the phase began, ms (the clock of `now`). */
  readonly startedAtMs: number;
}

/** `bytes` with a binary unit: 512 B, 3.4 KiB, 12.0 MiB, 1.25 GiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** A duration as rclone shows it: 45s, 3m12s, 1h04m. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * One line for a phase, like `rclone -P`: `Uploading    12.0 MiB / 128 MiB, 9%, 3.1 MiB/s, ETA 37s`.
 * The rate is the phase's average since it began; the ETA is what is left at that rate (shown
 * once a second has passed and something moved). A phase that does not know its total (scanning)
 * shows its count.
 */
export function progressLine(state: PhaseState, nowMs: number): string {
  const label = LABELS[state.phase].padEnd(12);
  const elapsedMs = Math.max(0, nowMs - state.startedAtMs);
  const show = state.unit === 'bytes' ? formatBytes : (n: number) => String(n);
  // The unit follows the last figure: "1 file", "1 / 2 files".
  const unit =
    state.unit === 'files' ? ((state.total > 0 ? state.total : state.done) === 1 ? ' file' : ' files') : '';
  if (state.phase === 'done') return `${label}${formatDuration(elapsedMs)}`;
  if (state.total <= 0) return `${label}${show(state.done)}${unit}, ${formatDuration(elapsedMs)}`;
  const done = Math.min(state.done, state.total);
  const percent = Math.floor((done / state.total) * 100);
  const parts = [`${label}${show(done)} / ${show(state.total)}${unit}`, `${percent}%`];
  const rate = elapsedMs >= 1000 ? done / (elapsedMs / 1000) : 0;
  if (rate > 0) {
    parts.push(
      state.unit === 'bytes' ? `${formatBytes(rate)}/s` : `${rate.toFixed(rate >= 10 ? 0 : 1)} files/s`,
    );
    parts.push(
      done >= state.total
        ? formatDuration(elapsedMs)
        : `ETA ${formatDuration(((state.total - done) / rate) * 1000)}`,
    );
  } else if (done >= state.total) {
    parts.push(formatDuration(elapsedMs));
  }
  return parts.join(', ');
}

/** What a stopped pass had done: the finished phases and where the current one stood. */
export function progressReport(finished: readonly PhaseState[], current: PhaseState | undefined): string {
  const phrase = (state: PhaseState) => {
    const show = state.unit === 'bytes' ? formatBytes : (n: number) => plural(n, 'file');
    return state.total > 0 ? `${show(state.done)} of ${show(state.total)}` : show(state.done);
  };
  const done = finished
    .filter((state) => state.phase !== 'done')
    .map((state) => `${LABELS[state.phase].toLowerCase()} done (${phrase(state)})`);
  const parts = [...done];
  if (current && current.phase !== 'done') {
    parts.push(
      `stopped while ${LABELS[current.phase].toLowerCase()}: ${phrase(current)}` +
        (current.total > current.done
          ? `, ${current.unit === 'bytes' ? formatBytes(current.total - current.done) : plural(current.total - current.done, 'file')} left`
          : ''),
    );
  }
  return parts.join('; ');
}

/**
 * The progress of a sync on a terminal: one line per phase, rewritten in place (at most ten times
 * a second) while the phase runs and left behind with its final figures when the next begins.
 * The cursor is hidden and line wrap off while it runs (a line longer than the terminal would
 * otherwise scroll); `stop` gives both back, and must run on every way out (an error, Ctrl-C).
 */
export class ProgressDisplay {
  private current: PhaseState | undefined;
  private readonly finished: PhaseState[] = [];
  private lastDrawMs = 0;
  private active = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly now: () => number = Date.now,
  ) {}

  update(progress: SyncProgress): void {
    const now = this.now();
    if (!this.active) {
      this.active = true;
      this.stream.write(TERM.hideCursor + TERM.noWrap);
    }
    if (this.current?.phase !== progress.phase) {
      if (this.current) {
        this.draw(now);
        this.stream.write('\n');
        this.finished.push(this.current);
      }
      this.current = { ...progress, startedAtMs: now };
      this.draw(now);
      return;
    }
    this.current = { ...this.current, done: progress.done, total: progress.total, unit: progress.unit };
    // A phase's last figure is drawn at once; a total of 0 (scanning: not known) has none.
    const finished = progress.total > 0 && progress.done >= progress.total;
    if (now - this.lastDrawMs >= 100 || finished) this.draw(now);
  }

  /**
   * Lets another writer to the same terminal (the log, on stderr) put a line out: the progress
   * line is cleared first and drawn again below it, so the two never share a line.
   */
  interleave(write: () => void): void {
    if (!this.active || !this.current) return write();
    this.stream.write(TERM.clearLine);
    write();
    this.draw(this.now());
  }

  /** What was done and what was left, for a pass stopped midway. */
  report(): string {
    return progressReport(this.finished, this.current);
  }

  /** Clears the current line and gives the terminal back its cursor and line wrap. */
  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.stream.write(TERM.clearLine + TERM.wrap + TERM.showCursor);
  }

  private draw(now: number): void {
    if (!this.current) return;
    this.lastDrawMs = now;
    const columns = this.stream.columns || 80;
    this.stream.write(TERM.clearLine + progressLine(this.current, now).slice(0, columns - 1));
  }
}
