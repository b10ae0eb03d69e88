/** The command was stopped by a signal (Ctrl-C is SIGINT); what it had committed stays. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    /** What the command had done and what was left, one sentence each (may be empty). */
    readonly progress: string,
  ) {
    super(
      `${signal === 'SIGINT' ? 'interrupted' : 'stopped (SIGTERM)'}${progress ? `: ${progress}` : ''}. ` +
        'What was synced so far is kept; run the same command again to go on from there.',
    );
  }
}

/**
 * Runs `work` with SIGINT and SIGTERM handled: on the first one `onSignal` runs at once (it must
 * restore the terminal and report), then the process exits with `exitWith(error)`'s code. A second
 * signal exits at once. Exiting does not wait for `work`: the engine keeps its state consistent
 * at every step (commits and atomic writes as it goes, sqlite transactions), exactly as after a
 * crash, and the next pass resumes from what was committed.
 */
export async function withSignals<T>(
  work: () => Promise<T>,
  onSignal: (signal: 'SIGINT' | 'SIGTERM') => number,
): Promise<T> {
  let handled = false;
  const handler = (signal: 'SIGINT' | 'SIGTERM') => {
    if (handled) process.exit(signal === 'SIGINT' ? 130 : 143);
    handled = true;
    process.exit(onSignal(signal));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await work();
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
