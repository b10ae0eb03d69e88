import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = join(__dirname, '../../../../node_modules/.bin/filesync');

describe('the filesync launcher (node_modules/.bin/filesync, as `npx filesync` runs it)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'filesync-launcher-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('runs Node with a small young generation, so short-lived garbage cannot grow the RSS by tens of MiB', async () => {
    // Preloaded into the CLI's own process: churns through short-lived objects as a sync of many
    // files does, then reports how large V8 let the young generation grow.
    const probe = join(dir, 'probe.cjs');
    writeFileSync(
      probe,
      `const v8 = require('node:v8');
       let keep = 0;
       for (let i = 0; i < 2e6; i++) keep += ({ path: 'f' + i, blocks: [i] }).blocks.length;
       const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
       process.stderr.write('PROBE ' + JSON.stringify({ flags: process.execArgv, young: young.space_size, keep }) + '\\n');`,
    );
    const { stdout, stderr } = await run(BIN, ['--help'], {
      env: {
        ...process.env,
        PATH: [dirname(process.execPath), process.env.PATH].join(delimiter),
        NODE_OPTIONS: `--require ${probe}`,
      },
    });
    expect(stdout).toContain('Usage: filesync');
    const line = stderr.split('\n').find((text) => text.startsWith('PROBE '));
    const report = JSON.parse(line!.slice('PROBE '.length)) as { flags: string[]; young: number };
    expect(report.flags).toContain('--max-semi-space-size=4');
    // Without the flag Node 24 grows it to 64 MiB under this churn.
    expect(report.young).toBeLessThanOrEqual(16 * 1024 * 1024);
  });
});
