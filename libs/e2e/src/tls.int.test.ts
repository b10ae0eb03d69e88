// Issue 9, TLS: the services serving TLS (certificate and key from their configuration, calls
// between them over TLS too) and the CLI reaching them with --ca, refusing without it, and failing
// clearly when told to speak plaintext to them.
import { join } from 'node:path';
import { uniqueEmail } from '@filesync/test-support';
import { cli, scratchFolders, type CliResult } from './support/cli';
import { readTestStack } from './support/harness';
import { startTlsServices, type TlsServices } from './support/tls-services';
import { mixedFolder, treeDigest, writeTree } from './support/trees';

const stack = readTestStack();
const scratch = scratchFolders();
/** This process's environment without a server or CA that could leak into the CLI. */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== 'FILESYNC_SERVER' && name !== 'FILESYNC_CA'),
);
let tls: TlsServices;

beforeAll(async () => {
  tls = await startTlsServices(stack);
}, 120_000);

afterAll(async () => {
  await tls?.stop();
  scratch.removeAll();
});

const filesync = (args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
  cli(args, { env: { ...env, ...extraEnv } });

/** Its stdout when it exited 0; otherwise fails with everything it printed. */
async function succeeds(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await filesync(args, extraEnv);
  if (result.code !== 0)
    throw new Error(`filesync ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** stderr's lines, without blank ones. */
const lines = (stderr: string) => stderr.split('\n').filter((line) => line.trim() !== '');

describe('TLS', () => {
  test('two devices sign up, log in and sync over TLS with --ca; the session keeps TLS for later commands', async () => {
    const email = uniqueEmail('tls');
    const laptop = { home: scratch.dir('tls-laptop-home'), folder: scratch.dir('tls-laptop') };
    const desktop = {
      home: scratch.dir('tls-desktop-home'),
      folder: join(scratch.dir('tls-desktop'), 'docs'),
    };
    const files = mixedFolder(6 * 1024 * 1024);
    writeTree(laptop.folder, files);

    await succeeds([
      '--server',
      tls.server,
      '--ca',
      tls.caFile,
      '--home',
      laptop.home,
      'signup',
      '--email',
      email,
    ]);
    // No --server: the session recorded grpcs://, so this pass is TLS too (and needs the CA again).
    const up = await succeeds(['--ca', tls.caFile, '--home', laptop.home, 'sync', laptop.folder, '--json']);
    expect(JSON.parse(up)).toMatchObject({ filesUploaded: Object.keys(files).length, failed: [] });
    // status asks the server too, over TLS: the CA is needed again.
    const status = JSON.parse(
      await succeeds(['--ca', tls.caFile, '--home', laptop.home, 'status', '--json']),
    ) as {
      server: string;
    };
    expect(status.server).toBe(tls.server);

    // The CA from FILESYNC_CA instead of --ca.
    await succeeds(['--server', tls.server, '--home', desktop.home, 'login', '--email', email], {
      FILESYNC_CA: tls.caFile,
    });
    const down = await succeeds(['--home', desktop.home, 'sync', desktop.folder, '--create', '--json'], {
      FILESYNC_CA: tls.caFile,
    });
    expect(JSON.parse(down)).toMatchObject({ filesDownloaded: Object.keys(files).length });
    expect(treeDigest(desktop.folder)).toEqual(treeDigest(laptop.folder));
  });

  test('without the CA the client refuses the certificate in one line that points to --ca', async () => {
    const home = scratch.dir('tls-no-ca-home');
    const result = await filesync([
      '--server',
      tls.server,
      '--home',
      home,
      'signup',
      '--email',
      uniqueEmail('tls-no-ca'),
    ]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(
        /^filesync: the certificate of the server at grpcs:\/\/127\.0\.0\.1:\d+ is not trusted \(.+\): .*--ca FILE/,
      ),
    ]);
  });

  test('plaintext to the loopback TLS server, with --insecure or without, says it speaks TLS within seconds (exit 1)', async () => {
    const plain = tls.server.replace('grpcs://', '');
    for (const insecure of [[], ['--insecure']]) {
      const started = Date.now();
      const result = await filesync([
        '--server',
        plain,
        ...insecure,
        '--home',
        scratch.dir('tls-plaintext-home'),
        'login',
        '--email',
        uniqueEmail('tls-plaintext'),
      ]);
      expect(result.code).toBe(1);
      // --insecure changes nothing for loopback: the advice is TLS, not dropping --insecure.
      expect(lines(result.stderr)).toEqual([
        `filesync: the server at ${plain} closed the connection before gRPC began, as a TLS server does: use grpcs://${plain} or --tls (or, if it is no TLS server, check what listens there)`,
      ]);
      // The login deadline is 30 s; a refused connection must end long before it.
      expect(Date.now() - started).toBeLessThan(20_000);
    }
  });

  test('without the CA, status names the certificate and logout keeps the session until it can tell the server', async () => {
    const home = scratch.dir('tls-logout-home');
    await succeeds([
      '--server',
      tls.server,
      '--ca',
      tls.caFile,
      '--home',
      home,
      'signup',
      '--email',
      uniqueEmail('tls-logout'),
    ]);

    const status = await filesync(['--home', home, 'status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(
      /: cannot connect: the certificate of the server at grpcs:\/\/127\.0\.0\.1:\d+ is not trusted \(.+\): .*--ca FILE/,
    );
    expect(status.stdout).not.toMatch(/UNREACHABLE|your network/);

    const refused = await filesync(['--home', home, 'logout']);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual([
      expect.stringMatching(
        /^filesync: not logged out: .*could not be told: the certificate of the server at .* is not trusted .*--ca FILE .*FILESYNC_CA.*`filesync logout` again.*`filesync devices remove /,
      ),
    ]);
    // Still signed in, so logging out with the CA ends the session on the server too.
    expect(await succeeds(['--ca', tls.caFile, '--home', home, 'logout'])).toMatch(
      /^Logged out .* on this device\. /,
    );
  });

  test('TLS to the plaintext stack says the server does not speak TLS', async () => {
    const result = await filesync([
      '--server',
      stack.server,
      '--tls',
      '--home',
      scratch.dir('tls-to-plain-home'),
      'login',
      '--email',
      uniqueEmail('tls-to-plain'),
    ]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/server at grpcs:\/\/127\.0\.0\.1:\d+ does not speak TLS: .*--insecure/),
    ]);
  });

  test('--insecure to a server that is not loopback warns on every run; a bad --ca or --tls with --insecure is a usage error', async () => {
    const home = scratch.dir('tls-warn-home');
    // status reads the session only: nothing is sent to the (unresolvable) host.
    const insecure = await filesync([
      '--server',
      'files.example.invalid',
      '--insecure',
      '--home',
      home,
      'status',
    ]);
    expect(insecure.stderr).toMatch(
      /^filesync: warning: --insecure: talking to files\.example\.invalid:50051 without TLS/,
    );

    const missing = await filesync(['--ca', join(home, 'nope.pem'), '--home', home, 'status']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the CA file .*nope\.pem/);

    const both = await filesync(['--tls', '--insecure', '--home', home, 'status']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--tls and --insecure contradict each other/);
  });
});
