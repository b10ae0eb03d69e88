import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { changedInputs, fileStamp, INPUTS_FILE } from '../../tools/bundle-inputs.mjs';

const run = promisify(execFile);
const ROOT = join(__dirname, '../../../..');
const BIN = join(ROOT, 'node_modules/.bin/filesync');
const DIST = join(ROOT, 'libs/sync-client/dist');
const withNode24 = (env: NodeJS.ProcessEnv = {}) => ({
  ...process.env,
  PATH: [dirname(process.execPath), process.env.PATH].join(delimiter),
  ...env,
});

describe('the filesync launcher (node_modules/.bin/filesync, as `npx filesync` runs it)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'filesync-launcher-'));
    // The bundle as `npm test` leaves it: built from the sources as they are.
    await run(process.execPath, [join(ROOT, 'libs/sync-client/tools/bundle.mjs')], { env: withNode24() });
  }, 60_000);
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
      env: withNode24({ NODE_OPTIONS: `--require ${probe}` }),
    });
    expect(stdout).toContain('Usage: filesync');
    const line = stderr.split('\n').find((text) => text.startsWith('PROBE '));
    const report = JSON.parse(line!.slice('PROBE '.length)) as { flags: string[]; young: number };
    expect(report.flags).toContain('--max-semi-space-size=4');
    // Without the flag Node 24 grows it to 64 MiB under this churn.
    expect(report.young).toBeLessThanOrEqual(16 * 1024 * 1024);
  });

  test('a server that cannot be reached is one line naming the address given, from the bundle too', async () => {
    const home = join(dir, 'home');
    const failed = await run(
      BIN,
      ['--server', '127.0.0.1:1', '--home', home, 'login', '--email', 'a@b.example'],
      {
        env: withNode24({ FILESYNC_PASSWORD: 'not needed' }),
      },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(7);
    expect(failed?.stderr).toMatch(
      /^filesync: cannot reach the filesync server at 127\.0\.0\.1:1 \(connection refused\): check the address .*\n$/,
    );
  });

  /** The CLI's entry module the launcher loaded: the bundle or the TypeScript sources. */
  async function entryLoaded(): Promise<string> {
    const probe = join(dir, 'entry-probe.mjs');
    writeFileSync(
      probe,
      `import { registerHooks } from 'node:module';
       registerHooks({
         load(url, context, next) {
           if (/\\/(dist\\/filesync\\.mjs|src\\/cli\\/main\\.ts)$/.test(url)) process.stderr.write('ENTRY ' + url + '\\n');
           return next(url, context);
         },
       });`,
    );
    const { stdout, stderr } = await run(BIN, ['--help'], {
      env: withNode24({ NODE_OPTIONS: `--import ${probe}` }),
    });
    expect(stdout).toContain('Usage: filesync');
    const entries = stderr.split('\n').filter((text) => text.startsWith('ENTRY '));
    expect(entries).toHaveLength(1);
    return entries[0]!.replace(/^ENTRY file:\/\/.*\/libs\/sync-client\//, '');
  }

  test('runs the bundle, compiling nothing, while it was built from the sources as they are', async () => {
    expect(changedInputs(ROOT, DIST)).toEqual([]);
    expect(await entryLoaded()).toBe('dist/filesync.mjs');
  });

  test('runs the sources through tsx once one differs from what the bundle was built from', async () => {
    const recordFile = join(DIST, INPUTS_FILE);
    const record = readFileSync(recordFile, 'utf8');
    const { inputs } = JSON.parse(record) as { inputs: Record<string, { size: number; mtimeMs: number }> };
    // As after an edit of main.ts: the record no longer matches the file.
    inputs['libs/sync-client/src/cli/main.ts']!.mtimeMs -= 1000;
    writeFileSync(recordFile, JSON.stringify({ inputs }));
    try {
      expect(await entryLoaded()).toBe('src/cli/main.ts');
    } finally {
      writeFileSync(recordFile, record);
    }
  }, 30_000);
});

describe('changedInputs: what the bundle was built from that is no longer so', () => {
  let root: string;
  let dist: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'filesync-inputs-'));
    dist = join(root, 'dist');
    mkdirSync(join(root, 'src'));
    mkdirSync(dist);
    writeFileSync(join(root, 'src/a.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, 'src/b.ts'), 'export const b = 2;\n');
    const stamp = (path: string) => fileStamp(join(root, path));
    writeFileSync(
      join(dist, INPUTS_FILE),
      JSON.stringify({ inputs: { 'src/a.ts': stamp('src/a.ts'), 'src/b.ts': stamp('src/b.ts') } }),
    );
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('nothing while every input is as recorded', () => {
    expect(changedInputs(root, dist)).toEqual([]);
  });

  test('an input written since, even with the same bytes, or removed', () => {
    const later = new Date(Date.now() + 5000);
    utimesSync(join(root, 'src/a.ts'), later, later);
    expect(changedInputs(root, dist)).toEqual(['src/a.ts']);
    rmSync(join(root, 'src/b.ts'));
    expect(changedInputs(root, dist)).toEqual(['src/a.ts', 'src/b.ts']);
  });

  test('an input of another size, whatever its time', () => {
    const { mtimeMs } = fileStamp(join(root, 'src/b.ts'))!;
    writeFileSync(join(root, 'src/b.ts'), 'export const b = 22;\n');
    utimesSync(join(root, 'src/b.ts'), new Date(mtimeMs), new Date(mtimeMs));
    expect(changedInputs(root, dist)).toEqual(['src/b.ts']);
  });

  test('no record, or an empty one, is never current', () => {
    writeFileSync(join(dist, INPUTS_FILE), JSON.stringify({ inputs: {} }));
    expect(changedInputs(root, dist)).toHaveLength(1);
    rmSync(join(dist, INPUTS_FILE));
    expect(changedInputs(root, dist)).toEqual([`${INPUTS_FILE} (not built)`]);
  });
});
