import type { WatchEvent } from '../watch/watch-folder';
import { plural } from '../plural';

const time = () => new Date().toTimeString().slice(0, 8);

/**
 * One line for a watch event worth telling a person; undefined for the rest (passes that did
 * nothing). `describe` says an error as the CLI does (describeFailure): grpc-js's own text names
 * nested causes and a service port.
 */
export function watchEventLine(
  event: WatchEvent,
  dir: string,
  describe: (error: unknown) => string = message,
): string | undefined {
  switch (event.kind) {
    case 'watching':
      return `Watching ${dir}: changes here and on your other devices sync as they happen (Ctrl-C stops).`;
    case 'pass': {
      const { summary } = event;
      const parts = [
        summary.filesUploaded > 0 ? `${summary.filesUploaded} uploaded` : '',
        summary.filesDownloaded > 0 ? `${summary.filesDownloaded} downloaded` : '',
        summary.deleted > 0 ? `${summary.deleted} deleted` : '',
        summary.conflicts > 0 ? `${plural(summary.conflicts, 'conflict')} kept as copies` : '',
        summary.skipped.length > 0 ? `${summary.skipped.length} skipped` : '',
      ].filter((part) => part !== '');
      return parts.length === 0 ? undefined : `${time()} ${parts.join(', ')} (${event.ms} ms)`;
    }
    case 'pass-failed':
      return (
        `${time()} sync failed: ${describe(event.error)}` +
        (event.retrying ? '; retrying' : '; waiting for the next change')
      );
    case 'server':
      if (!event.connected)
        return `${time()} connection to the server lost: ${describe(event.error)}; reconnecting`;
      return event.mode === 'poll'
        ? `${time()} the server does not push changes: checking for them every 2 s`
        : `${time()} connected: changes from other devices arrive as they are made`;
    case 'lost-events':
      return `${time()} ${event.reason}: scanning the whole folder`;
  }
}

function message(error: unknown): string {
  if (error instanceof Error) return (error as Error & { details?: string }).details || error.message;
  return String(error);
}
