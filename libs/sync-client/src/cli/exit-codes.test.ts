import { CommanderError } from 'commander';
import { emptySummary, MassDeleteError, SyncIncompleteError } from '../sync/summary';
import { EXIT, exitCodeForError, exitCodeForSummary } from './exit-codes';

describe('kinds 2 and 5: the exit code tells a complete pass from an incomplete or stopped one', () => {
  it('is 0 only when nothing was skipped or failed', () => {
    expect(exitCodeForSummary(emptySummary())).toBe(EXIT.success);
    const skipped = { ...emptySummary(), skipped: [{ path: 'a\\b', reason: 'backslash' }] };
    expect(exitCodeForSummary(skipped)).toBe(EXIT.incomplete);
    const failed = { ...emptySummary(), failed: [{ path: 'x', reason: 'refused' }] };
    expect(exitCodeForSummary(failed)).toBe(EXIT.incomplete);
  });

  it('has a code of its own for each way a pass ends early', () => {
    expect(exitCodeForError(new MassDeleteError(emptySummary(), { local: ['a'], remote: [] }, 1, false))).toBe(4);
    expect(exitCodeForError(new SyncIncompleteError(emptySummary(), [{ path: 'x', reason: 'r' }]))).toBe(3);
    expect(exitCodeForError(new Error('server unreachable'))).toBe(1);
    expect(exitCodeForError(new CommanderError(1, 'commander.unknownOption', 'unknown option'))).toBe(2);
    expect(exitCodeForError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(0);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.keys(EXIT).length);
  });
});
