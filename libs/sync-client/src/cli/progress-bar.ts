import { Presets, SingleBar } from 'cli-progress';
import type { SyncProgress } from '../sync/summary';

const LABELS: Record<SyncProgress['phase'], string> = {
  scanning: 'Scanning   ',
  comparing: 'Comparing  ',
  uploading: 'Uploading  ',
  committing: 'Committing ',
  downloading: 'Downloading',
  done: 'Done       ',
};

/** One bar on the terminal that follows the phases of a sync. */
export class SyncProgressBar {
  private readonly bar = new SingleBar(
    {
      format: '{phase} [{bar}] {percentage}% | {value}/{total} {unit}',
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stdout,
    },
    Presets.shades_classic,
  );
  private started = false;

  update(progress: SyncProgress): void {
    const unit = progress.unit === 'bytes' ? 'MiB' : 'files';
    const scale = (value: number) =>
      progress.unit === 'bytes' ? Math.round((value / 1048576) * 10) / 10 : value;
    // Scanning does not know its total up front: show the count so far as the total.
    const total = Math.max(scale(progress.total), scale(progress.done), 1);
    const payload = { phase: LABELS[progress.phase], unit };
    if (!this.started) {
      this.bar.start(total, scale(progress.done), payload);
      this.started = true;
      return;
    }
    this.bar.setTotal(total);
    this.bar.update(scale(progress.done), payload);
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}
