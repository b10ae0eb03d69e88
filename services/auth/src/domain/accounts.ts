import { randomUUID } from 'node:crypto';
import { DomainError, unauthenticated, type Principal } from '@filesync/server-kit';
import { LOGIN_THROTTLE, loginDelayMs } from './login-throttle';
import type { PasswordHasher } from './passwords';
import type { AccountStore, Clock, Device, LoginAttemptStore } from './ports';
import type { Session, Sessions } from './sessions';

/** Inputs already passed input-rules: email normalised, password within bounds, device name clean. */
export interface Credentials {
  readonly email: string;
  readonly password: string;
  readonly deviceName: string;
}

const WRONG_CREDENTIALS = 'email or password is wrong';

/** Accounts and their devices: sign-up, password login with throttling, device list, logout. */
export class Accounts {
  constructor(
    private readonly deps: {
      readonly accounts: AccountStore;
      readonly loginAttempts: LoginAttemptStore;
      readonly passwords: PasswordHasher;
      readonly sessions: Sessions;
      readonly clock: Clock;
    },
  ) {}

  /** Creates the account with its root namespace id and first device; ALREADY_EXISTS if the email is taken. */
  async signUp({ email, password, deviceName }: Credentials): Promise<Session> {
    const { accounts, passwords, sessions, clock } = this.deps;
    const now = clock.now();
    const account = {
      userId: randomUUID(),
      email,
      passwordHash: await passwords.hash(password),
      rootNamespaceId: randomUUID(),
      createdAtMs: now,
    };
    const device = { userId: account.userId, deviceId: randomUUID(), name: deviceName, createdAtMs: now };
    await accounts.createAccount(account, device);
    return sessions.start(account, device.deviceId);
  }

  /**
   * Unknown emails and wrong passwords look the same from outside: same message, and a dummy
   * verify so both take one argon2 run. Failures per email are counted and slow further attempts.
   */
  async login({ email, password, deviceName }: Credentials): Promise<Session> {
    const { accounts, loginAttempts, passwords, sessions, clock } = this.deps;
    const failures = await loginAttempts.get(email);
    const waitMs = loginDelayMs(failures, clock.now());
    if (waitMs > 0) throw tooManyFailures(waitMs);

    const account = await accounts.findByEmail(email);
    const valid = account
      ? await passwords.verify(account.passwordHash, password)
      : (await passwords.verifyDummy(password), false);
    if (!account || !valid) {
      await loginAttempts.recordFailure(email, clock.now(), LOGIN_THROTTLE.windowMs);
      throw unauthenticated(WRONG_CREDENTIALS);
    }
    if (failures) await loginAttempts.clear(email);

    const device: Device = {
      userId: account.userId,
      deviceId: randomUUID(),
      name: deviceName,
      createdAtMs: clock.now(),
    };
    await accounts.addDevice(device);
    return sessions.start(account, device.deviceId);
  }

  /** The caller's devices, oldest first. */
  async devices(caller: Principal): Promise<Device[]> {
    const devices = await this.deps.accounts.listDevices(caller.userId);
    return devices.sort((a, b) => a.createdAtMs - b.createdAtMs || a.deviceId.localeCompare(b.deviceId));
  }

  /** Revokes the session's token family and forgets its device. Access tokens already out expire on their own. */
  async logout(refreshToken: string, caller: Principal): Promise<void> {
    const ended = await this.deps.sessions.end(refreshToken, caller);
    if (ended) await this.deps.accounts.removeDevice(caller.userId, ended.deviceId);
  }
}

function tooManyFailures(waitMs: number): DomainError {
  const seconds = Math.ceil(waitMs / 1000);
  return new DomainError(
    'resource-exhausted',
    `too many failed logins for this email: retry in ${seconds} s`,
    { 'retry-after-ms': String(waitMs) },
  );
}
