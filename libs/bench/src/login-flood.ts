import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { grpcCode, unary } from '@filesync/contracts';
import { buildServices, startStack } from '@filesync/local-stack';
import { connectStubs, signUp, TEST_PASSWORD, uniqueEmail, type Stubs } from '@filesync/test-support';

/** Apart from `npm start`, the test tiers and `npm run bench`, so all can run at once. */
const BENCH_PORTS = { basePort: 23151, emulatorPorts: { moto: 16666, dynamodb: 19200, ses: 19205 } };

/** Real-user logins measured per profile, one every REAL_LOGIN_GAP_MS. */
const REAL_LOGINS = Number(process.env.FILESYNC_BENCH_REAL_LOGINS ?? 15);
const REAL_LOGIN_GAP_MS = 300;

interface Profile {
  readonly name: string;
  /** Flood logins started per second (open loop: whether or not earlier ones were answered). */
  readonly floodPerSecond: number;
}

/**
 * Issue 6, kind 12: "19 logins/s take a real user's login from 113 ms to 1.1 s". Measures a real
 * user's login (right password) while an attacker floods Login with wrong passwords for
 * rotating, mostly non-existent emails, at several rates; prints latency and outcomes.
 */
export async function main(): Promise<void> {
  await buildServices();
  const work = await mkdtemp(join(tmpdir(), 'filesync-bench-login-'));
  const stack = await startStack({
    ...BENCH_PORTS,
    stateDir: join(work, 'state'),
    sink: () => {},
    logLevel: 'warn',
  });
  const stubs = connectStubs(stack.endpoints);
  try {
    const user = await signUp(stubs, 'bench-real');
    // Warm up: the first calls pay for JIT and DynamoDB Local's start.
    for (let i = 0; i < 5; i++) await login(stubs, user.email, TEST_PASSWORD);

    const profiles: Profile[] = [
      { name: 'idle', floodPerSecond: 0 },
      { name: 'flood 20 logins/s', floodPerSecond: 20 },
      { name: 'flood 60 logins/s', floodPerSecond: 60 },
      { name: 'flood 200 logins/s', floodPerSecond: 200 },
    ];
    const rows: string[] = [];
    for (const profile of profiles) rows.push(await measure(stubs, user.email, profile));
    process.stdout.write(
      [
        '',
        '| profile | real login median ms | p90 ms | max ms | real logins OK | flood answered: UNAUTHENTICATED / RESOURCE_EXHAUSTED / other |',
        '| --- | ---: | ---: | ---: | ---: | --- |',
        ...rows,
        '',
      ].join('\n'),
    );
  } finally {
    stubs.close();
    await stack.stop();
    await rm(work, { recursive: true, force: true });
  }
}

async function measure(stubs: Stubs, email: string, profile: Profile): Promise<string> {
  const flood = { unauthenticated: 0, exhausted: 0, other: 0 };
  const inFlight: Promise<void>[] = [];
  let flooding = profile.floodPerSecond > 0;
  const floodLoop = (async () => {
    const interval = 1000 / Math.max(profile.floodPerSecond, 1);
    let next = Date.now();
    while (flooding) {
      inFlight.push(
        login(stubs, uniqueEmail('flood'), 'wrong-password-123').then((code) => {
          if (code === 'UNAUTHENTICATED') flood.unauthenticated++;
          else if (code === 'RESOURCE_EXHAUSTED') flood.exhausted++;
          else flood.other++;
        }),
      );
      next += interval;
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  // Let the flood reach its steady state before measuring.
  if (flooding) await sleep(2_000);
  const latencies: number[] = [];
  let ok = 0;
  for (let i = 0; i < REAL_LOGINS; i++) {
    const started = performance.now();
    const code = await login(stubs, email, TEST_PASSWORD);
    latencies.push(performance.now() - started);
    if (code === 'OK') ok++;
    await sleep(REAL_LOGIN_GAP_MS);
  }
  flooding = false;
  await floodLoop;
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  const ms = (value: number) => value.toFixed(0);
  const floodCell = profile.floodPerSecond
    ? `${flood.unauthenticated} / ${flood.exhausted} / ${flood.other}`
    : '–';
  return `| ${profile.name} | ${ms(at(0.5))} | ${ms(at(0.9))} | ${ms(at(1))} | ${ok}/${REAL_LOGINS} | ${floodCell} |`;
}

/** One Login call; resolves with its status name ('OK' on success). */
async function login(stubs: Stubs, email: string, password: string): Promise<string> {
  try {
    await unary(
      stubs.auth.login.bind(stubs.auth),
      { email, password, deviceName: 'bench' },
      { timeoutMs: 30_000 },
    );
    return 'OK';
  } catch (error) {
    const code = grpcCode(error);
    return code === undefined ? 'UNKNOWN' : (status[code] ?? String(code));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
