import { randomUUID } from 'node:crypto';
import {
  ACCESS_TOKEN,
  DomainError,
  failedPrecondition,
  notFound,
  resourceExhausted,
  unauthenticated,
  type Principal,
} from '@filesync/server-kit';
import { LOGIN_THROTTLE, loginDelayMs } from './login-throttle';
import type { PasswordHasher } from './passwords';
import type { AccountStore, Clock, Device, LoginAttemptStore, RevocationStore } from './ports';
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
      readonly revocations: RevocationStore;
      /** Lifetime of access tokens: how long a logged-out device must stay on the revoked list. */
      readonly accessTokenTtlSeconds: number;
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
    const device: Device = {
      userId: account.userId,
      deviceId: randomUUID(),
      name: deviceName,
      createdAtMs: now,
      lastSeenAtMs: now,
    };
    await accounts.createAccount(account, device);
    return sessions.start({ ...account, emailVerified: false }, device.deviceId);
  }

  /**
   * Unknown emails and wrong passwords look the same from outside: same message, same throttle,
   * and a dummy verify that takes as long as a real one (without hashing on the server, so made-up
   * emails cannot fill the password-check cap). Each attempt is reserved (counted as a failure)
   * BEFORE anything else, atomically, so a burst of concurrent guesses gets exactly the free
   * attempts checked and the rest refused without a check or a place in the cap's queue; a
   * success clears the count.
   */
  async login({ email, password, deviceName }: Credentials): Promise<Session> {
    const { accounts, loginAttempts, passwords, sessions, clock } = this.deps;
    const now = clock.now();
    const before = await loginAttempts.reserve(email, now, LOGIN_THROTTLE.windowMs);
    if (loginDelayMs(before, now) > 0) {
      // The refused attempt was counted too: the client must wait as long as that count asks.
      const after = { count: (before?.count ?? 0) + 1, firstAtMs: before?.firstAtMs ?? now, lastAtMs: now };
      throw tooManyFailures(loginDelayMs(after, now));
    }

    const account = await accounts.findByEmail(email);
    let valid: boolean;
    try {
      valid = account
        ? await passwords.verify(account.passwordHash, password)
        : (await passwords.verifyDummy(password), false);
    } catch (error) {
      // Refused by the global password-check cap, the password was never checked: give the
      // attempt back, so a flood of other logins cannot use up this email's allowance.
      if (error instanceof DomainError && error.kind === 'resource-exhausted') {
        await loginAttempts.release(email);
      }
      throw error;
    }
    if (!account || !valid) throw unauthenticated(WRONG_CREDENTIALS);
    await loginAttempts.clear(email);
    const profile = (await accounts.findProfile(account.userId)) ?? { ...account, emailVerified: false };

    const device: Device = {
      userId: account.userId,
      deviceId: randomUUID(),
      name: deviceName,
      createdAtMs: clock.now(),
      lastSeenAtMs: clock.now(),
    };
    await accounts.addDevice(device);
    return sessions.start(profile, device.deviceId);
  }

  /** The caller's devices, oldest first. */
  async devices(caller: Principal): Promise<Device[]> {
    const devices = await this.deps.accounts.listDevices(caller.userId);
    return devices.sort((a, b) => a.createdAtMs - b.createdAtMs || a.deviceId.localeCompare(b.deviceId));
  }

  /**
   * Revokes the session's token family, forgets its device and puts the device on the revoked
   * list for as long as one of its access tokens can live, so they stop working everywhere.
   */
  async logout(refreshToken: string, caller: Principal): Promise<void> {
    const { sessions, accounts, revocations, clock, accessTokenTtlSeconds } = this.deps;
    const ended = await sessions.end(refreshToken, caller);
    if (!ended) return;
    const untilMs = clock.now() + (accessTokenTtlSeconds + ACCESS_TOKEN.clockToleranceSeconds) * 1000;
    await revocations.revokeDevice(ended.deviceId, untilMs);
    await accounts.removeDevice(caller.userId, ended.deviceId);
  }

  /**
   * Removes another device of the caller's account: it goes from the device list, so its refresh
   * tokens are refused (Sessions.refresh checks the device), and it is put on the revoked list
   * for as long as one of its access tokens can live. A device of another account is NOT_FOUND,
   * exactly like one that does not exist: another answer would confirm it is someone's.
   */
  async removeDevice(caller: Principal, deviceId: string): Promise<void> {
    const { accounts, revocations, clock, accessTokenTtlSeconds } = this.deps;
    if (deviceId === caller.deviceId) {
      throw failedPrecondition('this is the calling device: log it out instead (`filesync logout`)');
    }
    if (!(await accounts.hasDevice(caller.userId, deviceId))) {
      throw notFound('no such device in your account: `filesync devices` lists them');
    }
    const untilMs = clock.now() + (accessTokenTtlSeconds + ACCESS_TOKEN.clockToleranceSeconds) * 1000;
    await revocations.revokeDevice(deviceId, untilMs);
    await accounts.removeDevice(caller.userId, deviceId);
  }

  /** Refuses a caller whose device has logged out, with one consistent read (no cache window). */
  async requireLiveDevice(caller: Principal): Promise<void> {
    if (!(await this.deps.accounts.hasDevice(caller.userId, caller.deviceId))) {
      throw unauthenticated('this device has logged out: sign in again');
    }
  }
}

function tooManyFailures(waitMs: number): DomainError {
  const seconds = Math.ceil(waitMs / 1000);
  return resourceExhausted(`too many failed logins for this email: retry in ${seconds} s`, waitMs);
}
