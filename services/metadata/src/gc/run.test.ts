import { emptyReport } from './collector';
import { describe as describeReport, runGc } from './run';

/** Captures what the command writes. */
function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('gc command', () => {
  it('refuses an unknown flag with its usage and exit code 2, touching nothing', async () => {
    const streams = io();
    expect(await runGc(['--delete-everything'], { AWS_REGION: 'us-east-1' }, streams)).toBe(2);
    expect(streams.err()).toContain("Unknown option '--delete-everything'");
    expect(streams.err()).toContain('Usage: gc');
  });

  it('names a missing or wrong variable and exits 2', async () => {
    const streams = io();
    expect(await runGc([], { FILESYNC_GC_GRACE_SECONDS: '-5' }, streams)).toBe(2);
    expect(streams.err()).toContain('AWS_REGION is required');
    expect(streams.err()).toContain('FILESYNC_GC_GRACE_SECONDS is invalid');
  });

  it('prints its usage for --help', async () => {
    const streams = io();
    expect(await runGc(['--help'], {}, streams)).toBe(0);
    expect(streams.out()).toContain('--dry-run');
  });

  it('describes a report for people, failures included', () => {
    const report = { ...emptyReport(true), namespaces: 2, blocksDeleted: 3, bytesFreed: 2 * 1024 * 1024 };
    report.errors.push({ namespaceId: 'ns-9', message: 'block list x lacks part 0' });
    const text = describeReport(report, 1500);
    expect(text).toContain('(dry run: nothing changed) of 2 namespace(s) in 1.5 s');
    expect(text).toContain('3 deleted');
    expect(text).toContain('freed:       2.00 MiB (2097152 bytes)');
    expect(text).toContain('FAILED ns-9: block list x lacks part 0');
  });
});
