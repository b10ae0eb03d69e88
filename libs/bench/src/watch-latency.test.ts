import { watchMarkdown, type WatchRow } from './watch-latency';

describe('watchMarkdown', () => {
  const machine = {
    cores: 2,
    cpu: 'cpu',
    memoryGiB: 8,
    freeMemoryGiB: 2,
    loadAtStart: [3, 2, 1],
    loadAtEnd: [4, 3, 2],
  };
  const filesync: WatchRow = {
    tool: 'filesync',
    version: 'commit abc',
    settings: { 'server feed': 'push' },
    writes: 200,
    p50Ms: 250,
    p99Ms: 900,
    worstMs: 1200,
    loadAtStart: [3, 2, 1],
    loadAtEnd: [3.5, 2, 1],
  };
  const report = {
    command: 'npm run bench:watch',
    commit: 'abc',
    startedAt: 'now',
    machine,
    jsonPath: 'x.json',
  };

  it('puts both tools in one table with their loads, then their settings', () => {
    const text = watchMarkdown({
      ...report,
      rows: [
        filesync,
        {
          tool: 'Syncthing',
          version: 'v1.19.2-ds1',
          settings: { folder: { fsWatcherDelayS: 1 }, options: { listenAddresses: ['tcp://127.0.0.1:1'] } },
          writes: 200,
          p50Ms: 1001,
          p99Ms: 1100,
          worstMs: 1300,
          loadAtStart: [3.5, 2, 1],
          loadAtEnd: [4, 3, 2],
        },
      ],
    });
    expect(text).toContain(
      '| filesync | commit abc | 200 | 250 ms | 900 ms | 1200 ms | 3 / 2 / 1 | 3.5 / 2 / 1 |',
    );
    expect(text).toContain(
      '| Syncthing | v1.19.2-ds1 | 200 | 1001 ms | 1100 ms | 1300 ms | 3.5 / 2 / 1 | 4 / 3 / 2 |',
    );
    expect(text).toContain(
      '- Syncthing: folder.fsWatcherDelayS 1; options.listenAddresses tcp://127.0.0.1:1',
    );
    expect(text).toContain('load average 3 / 2 / 1 at the start, 4 / 3 / 2 at the end');
  });

  it('says why a tool has no figures', () => {
    const text = watchMarkdown({
      ...report,
      rows: [
        { tool: 'filesync', version: 'commit abc', settings: {}, error: 'write 3 did not arrive\nstack' },
        { tool: 'Syncthing', version: 'not installed', settings: {}, skipped: 'not on PATH' },
      ],
    });
    expect(text).toContain('| filesync | commit abc | failed: write 3 did not arrive |');
    expect(text).toContain('| Syncthing | not installed | not on PATH |');
  });
});
