// Syncthing as the peer of `npm run bench:watch`: two instances on 127.0.0.1 that share one folder.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProcess, stopAll, type LogSink, type ManagedProcess } from '@filesync/local-stack';
import { PORTS } from './bench-env';

const run = promisify(execFile);

export const SYNCTHING_FOLDER_ID = 'bench-watch';

/** One instance's ports on 127.0.0.1: the GUI/REST API and the sync protocol's TCP listener. */
export interface SyncthingPorts {
  readonly gui: number;
  readonly listen: number;
}

/**
 * The two instances' ports: 50..53 above the bench stack's base port, so one --port-offset moves
 * them with the rest of the run and they stay clear of `npm run bench:push` (200 above).
 */
export function syncthingPorts(portOffset: number): [SyncthingPorts, SyncthingPorts] {
  const base = PORTS.basePort + portOffset + 50;
  return [
    { gui: base, listen: base + 2 },
    { gui: base + 1, listen: base + 3 },
  ];
}

/**
 * Options written into a generated config.xml before the first start, because they decide what
 * the process opens as it starts: the sync protocol on 127.0.0.1 only (no QUIC, no relays), no
 * global or local discovery, no NAT traversal, no usage or crash reports, no upgrades, no
 * browser. setLowPriority is off so Syncthing is not niced below filesync on a shared machine.
 */
export function lockedDownOptions(ports: SyncthingPorts): Record<string, string> {
  return {
    listenAddress: `tcp://127.0.0.1:${ports.listen}`,
    globalAnnounceEnabled: 'false',
    localAnnounceEnabled: 'false',
    relaysEnabled: 'false',
    natEnabled: 'false',
    urAccepted: '-1',
    crashReportingEnabled: 'false',
    autoUpgradeIntervalH: '0',
    startBrowser: 'false',
    setLowPriority: 'false',
  };
}

/**
 * `xml` (a config.xml from `syncthing generate`) with lockedDownOptions and the GUI on
 * 127.0.0.1:`ports.gui`. Throws if an element is not there exactly once: a config format that
 * changed must stop the bench rather than leave a default (such as listening on 0.0.0.0) in place.
 */
export function lockDownConfig(xml: string, ports: SyncthingPorts): string {
  const replaceOnce = (text: string, pattern: RegExp, replacement: string, what: string) => {
    const found = text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
    if (found !== 1) throw new Error(`config.xml has ${found} ${what}, expected one`);
    return text.replace(pattern, replacement);
  };
  let result = xml;
  for (const [element, value] of Object.entries(lockedDownOptions(ports))) {
    result = replaceOnce(
      result,
      new RegExp(`<${element}>[^<]*</${element}>`),
      `<${element}>${value}</${element}>`,
      `<${element}>`,
    );
  }
  return replaceOnce(
    result,
    /(<gui\b[^>]*>\s*<address>)[^<]*(<\/address>)/,
    `$1127.0.0.1:${ports.gui}$2`,
    '<gui><address>',
  );
}

/** The REST API key of a generated config.xml. */
export function apiKeyOf(xml: string): string {
  const key = /<gui\b[\s\S]*?<apikey>([^<]+)<\/apikey>/.exec(xml)?.[1];
  if (!key) throw new Error('config.xml has no <gui><apikey>');
  return key;
}

/** The folder settings that decide Syncthing's latency here, besides fsWatcherDelayS. */
export const FOLDER_SETTINGS = {
  type: 'sendreceive',
  fsWatcherEnabled: true,
  // A day: no periodic rescan happens during a run, so only the watcher finds the writes.
  rescanIntervalS: 86_400,
} as const;

/**
 * fsWatcherDelayS values tried in order, the first one Syncthing accepts wins. Syncthing clamps
 * fractions below 0.01 (lib/config/folderconfiguration.go) and turns the watcher off at 0 or
 * less; v1.19.2, Debian's, keeps the field as an integer and answers 400 to a fraction, so 1 s
 * is the minimum there.
 */
export const WATCHER_DELAYS_S = [0.01, 1] as const;

/**
 * The folder both instances share: Syncthing's default folder template (GET
 * /rest/config/defaults/folder, which lists this device) with FOLDER_SETTINGS, `watcherDelayS`,
 * `path` and the peer added to its devices.
 */
export function sharedFolder(
  template: Record<string, unknown>,
  folder: { path: string; peer: string; watcherDelayS: number },
): Record<string, unknown> {
  const devices = (template.devices ?? []) as Array<Record<string, unknown>>;
  return {
    ...template,
    ...FOLDER_SETTINGS,
    id: SYNCTHING_FOLDER_ID,
    label: SYNCTHING_FOLDER_ID,
    path: folder.path,
    fsWatcherDelayS: folder.watcherDelayS,
    devices: [
      ...devices.filter((device) => device.deviceID !== folder.peer),
      { deviceID: folder.peer, introducedBy: '', encryptionPassword: '' },
    ],
  };
}

/** What the report says about the Syncthing side of a run, as Syncthing itself read it back. */
export interface SyncthingSettings {
  readonly folder: {
    readonly type: string;
    readonly fsWatcherEnabled: boolean;
    readonly fsWatcherDelayS: number;
    readonly rescanIntervalS: number;
  };
  readonly options: {
    readonly listenAddresses: readonly string[];
    readonly globalAnnounceEnabled: boolean;
    readonly localAnnounceEnabled: boolean;
    readonly relaysEnabled: boolean;
    readonly natEnabled: boolean;
    readonly setLowPriority: boolean;
  };
  /** fsWatcherDelayS values this version refused before the one it took (WATCHER_DELAYS_S). */
  readonly refusedWatcherDelaysS: readonly number[];
  /** Device 1's connection to device 2: its type and the local-remote addresses. */
  readonly connection: string;
}

export interface SyncthingPair {
  /** Syncthing's version, e.g. `v1.19.2-ds1`. */
  readonly version: string;
  /** Its long version, e.g. `syncthing v1.19.2-ds1 "Fermium Flea" (go1.19.8 linux-amd64) ...`. */
  readonly longVersion: string;
  /** The shared folder on device 1 and on device 2. */
  readonly folders: readonly [string, string];
  readonly settings: SyncthingSettings;
  /** SIGTERM to each instance's process group (SIGKILL after 5 s); resolves once both exited. */
  stop(): Promise<void>;
}

interface Instance {
  readonly name: string;
  readonly home: string;
  readonly folder: string;
  readonly ports: SyncthingPorts;
  readonly deviceId: string;
  readonly apiKey: string;
  process?: ManagedProcess;
}

async function assertFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error) =>
      reject(new Error(`127.0.0.1:${port} is taken (${error.message}); pick another --port-offset`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** Resolves once `check` holds (polled every `everyMs`), or rejects naming `what` after `timeoutMs`. */
async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`Syncthing: ${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

class RestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One call of an instance's REST API; the parsed JSON answer (undefined when empty). */
async function rest<T = unknown>(
  instance: Instance,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${instance.ports.gui}${path}`, {
    method,
    headers: { 'X-API-Key': instance.apiKey, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new RestError(
      response.status,
      `${instance.name}: ${method} ${path}: ${response.status} ${text.trim()}`,
    );
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

async function generate(name: string, work: string, ports: SyncthingPorts, env: NodeJS.ProcessEnv) {
  const home = join(work, `${name}-home`);
  const folder = join(work, name);
  await mkdir(folder, { recursive: true });
  const { stdout, stderr } = await run(
    'syncthing',
    ['generate', '--home', home, '--no-default-folder', '--skip-port-probing'],
    { env, timeout: 60_000 },
  );
  const deviceId = /Device ID: ([A-Z0-9-]+)/.exec(`${stdout}${stderr}`)?.[1];
  if (!deviceId) throw new Error(`syncthing generate printed no device ID:\n${stdout}${stderr}`);
  const configPath = join(home, 'config.xml');
  const generated = await readFile(configPath, 'utf8');
  await writeFile(configPath, lockDownConfig(generated, ports));
  const instance: Instance = { name, home, folder, ports, deviceId, apiKey: apiKeyOf(generated) };
  return instance;
}

/**
 * Starts two Syncthing instances below `work` (homes `syncthing-N-home`, folders `syncthing-N`)
 * on syncthingPorts(`portOffset`), introduces them to each other by device ID at static
 * tcp://127.0.0.1 addresses, shares one folder through the REST API, with `seed` written in
 * device 1's copy before, and resolves once they are connected, the folder is idle on both and the
 * seed has reached device 2. Their output goes to `sink`. On failure, whatever started is stopped
 * before the error is thrown; a process exit kills them too.
 */
export async function startSyncthingPair(options: {
  work: string;
  portOffset: number;
  seed: { readonly name: string; readonly content: string };
  sink: LogSink;
}): Promise<SyncthingPair> {
  const ports = syncthingPorts(options.portOffset);
  for (const port of ports.flatMap(({ gui, listen }) => [gui, listen])) await assertFree(port);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STNODEFAULTFOLDER: '1',
    STNOUPGRADE: '1',
    STNORESTART: '1',
  };
  const instances = [
    await generate('syncthing-1', options.work, ports[0], env),
    await generate('syncthing-2', options.work, ports[1], env),
  ] as const;
  await writeFile(join(instances[0].folder, options.seed.name), options.seed.content);
  const started: ManagedProcess[] = [];
  // The bench exiting any other way than through stop() (an uncaught error, process.exit) must not
  // leave Syncthing running: kill the process groups synchronously, as 'exit' requires.
  const killOnExit = () => {
    for (const managed of started) {
      try {
        process.kill(-managed.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    await stopAll(started);
    process.removeListener('exit', killOnExit);
  };
  try {
    for (const instance of instances) {
      instance.process = startProcess({
        name: instance.name,
        command: 'syncthing',
        args: ['serve', '--home', instance.home, '--no-browser', '--no-restart', '--no-upgrade'],
        env,
        sink: options.sink,
      });
      started.push(instance.process);
    }
    const alive = (instance: Instance) => {
      const reason = instance.process?.exitReason();
      if (reason) throw new Error(`${instance.name} ${reason}:\n${instance.process!.recentOutput()}`);
    };
    for (const instance of instances) {
      await waitFor(
        `${instance.name}'s REST API`,
        async () => {
          alive(instance);
          return (await rest<{ ping: string }>(instance, 'GET', '/rest/system/ping')).ping === 'pong';
        },
        60_000,
      );
      const { myID } = await rest<{ myID: string }>(instance, 'GET', '/rest/system/status');
      if (myID !== instance.deviceId)
        throw new Error(`${instance.name} runs as ${myID}, not ${instance.deviceId}`);
    }

    let watcherDelayS: number | undefined;
    const refusedWatcherDelaysS: number[] = [];
    for (const [self, peer] of [instances, [instances[1], instances[0]] as const]) {
      const device = await rest<Record<string, unknown>>(self, 'GET', '/rest/config/defaults/device');
      await rest(self, 'POST', '/rest/config/devices', {
        ...device,
        deviceID: peer.deviceId,
        name: peer.name,
        addresses: [`tcp://127.0.0.1:${peer.ports.listen}`],
      });
      const template = await rest<Record<string, unknown>>(self, 'GET', '/rest/config/defaults/folder');
      for (const delay of watcherDelayS === undefined ? WATCHER_DELAYS_S : [watcherDelayS]) {
        try {
          await rest(self, 'POST', '/rest/config/folders', {
            ...sharedFolder(template, { path: self.folder, peer: peer.deviceId, watcherDelayS: delay }),
          });
          watcherDelayS = delay;
          break;
        } catch (error) {
          if (!(error instanceof RestError && error.status === 400) || delay === WATCHER_DELAYS_S.at(-1))
            throw error;
          refusedWatcherDelaysS.push(delay);
          options.sink(self.name, `fsWatcherDelayS ${delay} refused (${error.message}); trying the next`);
        }
      }
    }

    for (const [self, peer] of [instances, [instances[1], instances[0]] as const]) {
      await waitFor(
        `${self.name} connected to ${peer.name}`,
        async () => {
          alive(self);
          const { connections } = await rest<{ connections: Record<string, { connected: boolean }> }>(
            self,
            'GET',
            '/rest/system/connections',
          );
          return connections[peer.deviceId]?.connected === true;
        },
        120_000,
        250,
      );
    }
    for (const instance of instances) {
      await waitFor(
        `folder idle on ${instance.name}`,
        async () => {
          alive(instance);
          const status = await rest<{ state: string; needTotalItems: number }>(
            instance,
            'GET',
            `/rest/db/status?folder=${SYNCTHING_FOLDER_ID}`,
          );
          return status.state === 'idle' && status.needTotalItems === 0;
        },
        120_000,
        250,
      );
    }
    const seeded = join(instances[1].folder, options.seed.name);
    await waitFor(
      `the seed file on ${instances[1].name}`,
      async () => (await readFile(seeded, 'utf8')) === options.seed.content,
      120_000,
    );

    const [one, two] = instances;
    const folder = await rest<SyncthingSettings['folder']>(
      one,
      'GET',
      `/rest/config/folders/${SYNCTHING_FOLDER_ID}`,
    );
    const opts = await rest<SyncthingSettings['options']>(one, 'GET', '/rest/config/options');
    const { connections } = await rest<{ connections: Record<string, { type: string; address: string }> }>(
      one,
      'GET',
      '/rest/system/connections',
    );
    const link = connections[two.deviceId];
    const { version, longVersion } = await rest<{ version: string; longVersion: string }>(
      one,
      'GET',
      '/rest/system/version',
    );
    return {
      version,
      longVersion,
      folders: [one.folder, two.folder],
      settings: {
        folder: {
          type: folder.type,
          fsWatcherEnabled: folder.fsWatcherEnabled,
          fsWatcherDelayS: folder.fsWatcherDelayS,
          rescanIntervalS: folder.rescanIntervalS,
        },
        options: {
          listenAddresses: opts.listenAddresses,
          globalAnnounceEnabled: opts.globalAnnounceEnabled,
          localAnnounceEnabled: opts.localAnnounceEnabled,
          relaysEnabled: opts.relaysEnabled,
          natEnabled: opts.natEnabled,
          setLowPriority: opts.setLowPriority,
        },
        refusedWatcherDelaysS,
        connection: link ? `${link.type} ${link.address}` : 'unknown',
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
