// In-memory fakes of the auth store ports, for unit tests only (the service wires the DynamoDB
// adapters). They keep the same contract: conditional writes, single-use rotation, fail-closed families.
import { alreadyExists } from '@filesync/server-kit';
import type {
  Account,
  AccountStore,
  Clock,
  Device,
  LoginAttemptStore,
  LoginFailures,
  Profile,
  RefreshTokenRecord,
  RotationOutcome,
  TokenStore,
} from '../domain/ports';

export class FakeClock implements Clock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {}
  now() {
    return this.ms;
  }
  advance(ms: number) {
    this.ms += ms;
  }
}

export class InMemoryAccountStore implements AccountStore {
  readonly accounts = new Map<string, Account>();
  readonly devices = new Map<string, Device>();

  async createAccount(account: Account, firstDevice: Device) {
    if (this.accounts.has(account.email)) throw alreadyExists('an account with this email already exists');
    this.accounts.set(account.email, account);
    await this.addDevice(firstDevice);
  }
  async findByEmail(email: string) {
    return this.accounts.get(email);
  }
  async findProfile(userId: string): Promise<Profile | undefined> {
    const account = [...this.accounts.values()].find((candidate) => candidate.userId === userId);
    return account && { userId, email: account.email, rootNamespaceId: account.rootNamespaceId };
  }
  async addDevice(device: Device) {
    this.devices.set(`${device.userId}/${device.deviceId}`, device);
  }
  async listDevices(userId: string) {
    return [...this.devices.values()].filter((device) => device.userId === userId);
  }
  async removeDevice(userId: string, deviceId: string) {
    this.devices.delete(`${userId}/${deviceId}`);
  }
}

export class InMemoryLoginAttemptStore implements LoginAttemptStore {
  readonly failures = new Map<string, LoginFailures>();

  async get(email: string) {
    return this.failures.get(email);
  }
  async recordFailure(email: string, nowMs: number, windowMs: number) {
    const current = this.failures.get(email);
    const next =
      current && current.firstAtMs > nowMs - windowMs
        ? { ...current, count: current.count + 1, lastAtMs: nowMs }
        : { count: 1, firstAtMs: nowMs, lastAtMs: nowMs };
    this.failures.set(email, next);
    return next;
  }
  async clear(email: string) {
    this.failures.delete(email);
  }
}

export class InMemoryTokenStore implements TokenStore {
  readonly tokens = new Map<string, RefreshTokenRecord>();
  readonly families = new Map<string, { revoked: boolean }>();

  async startFamily(first: RefreshTokenRecord) {
    this.families.set(first.familyId, { revoked: false });
    this.tokens.set(first.tokenHash, first);
  }
  async findRefreshToken(tokenHash: string) {
    return this.tokens.get(tokenHash);
  }
  async isFamilyRevoked(familyId: string) {
    return this.families.get(familyId)?.revoked ?? true;
  }
  async rotate(
    current: RefreshTokenRecord,
    next: RefreshTokenRecord,
    nowMs: number,
  ): Promise<RotationOutcome> {
    const stored = this.tokens.get(current.tokenHash);
    if (!stored || stored.usedAtMs !== undefined) return 'already-used';
    // No await between check and write: like the DynamoDB transaction, this is atomic.
    if (this.families.get(current.familyId)?.revoked ?? true) return 'family-revoked';
    this.tokens.set(current.tokenHash, { ...stored, usedAtMs: nowMs });
    this.tokens.set(next.tokenHash, next);
    return 'rotated';
  }
  async revokeFamily(familyId: string) {
    const family = this.families.get(familyId);
    if (family) family.revoked = true;
  }
}
