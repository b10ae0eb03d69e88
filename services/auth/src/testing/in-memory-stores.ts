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
  PendingVerification,
  Profile,
  RefreshTokenRecord,
  RevocationStore,
  RotationOutcome,
  TokenStore,
  VerificationMailer,
  VerificationState,
  VerificationStore,
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

export class InMemoryAccountStore implements AccountStore, VerificationStore {
  readonly accounts = new Map<string, Account>();
  readonly devices = new Map<string, Device>();
  readonly verifiedUsers = new Set<string>();
  readonly pendingCodes = new Map<string, PendingVerification>();

  // Each method below reads and writes without an await in between: atomic, like the
  // conditional updates of the DynamoDB adapter.
  async verificationState(userId: string): Promise<VerificationState | undefined> {
    if (![...this.accounts.values()].some((account) => account.userId === userId)) return undefined;
    return { emailVerified: this.verifiedUsers.has(userId), pending: this.pendingCodes.get(userId) };
  }
  async putVerificationCode(
    userId: string,
    code: Omit<PendingVerification, 'attempts'>,
    notSentAfterMs: number,
  ) {
    const current = this.pendingCodes.get(userId);
    if (this.verifiedUsers.has(userId) || (current && current.sentAtMs > notSentAfterMs)) return false;
    this.pendingCodes.set(userId, { ...code, attempts: 0 });
    return true;
  }
  async countVerificationGuess(userId: string, codeHash: string) {
    const current = this.pendingCodes.get(userId);
    if (current?.codeHash !== codeHash) return undefined;
    this.pendingCodes.set(userId, { ...current, attempts: current.attempts + 1 });
    return current.attempts;
  }
  async confirmEmail(userId: string, codeHash: string) {
    if (this.pendingCodes.get(userId)?.codeHash !== codeHash) return false;
    this.pendingCodes.delete(userId);
    this.verifiedUsers.add(userId);
    return true;
  }

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
    return (
      account && {
        userId,
        email: account.email,
        rootNamespaceId: account.rootNamespaceId,
        emailVerified: this.verifiedUsers.has(userId),
      }
    );
  }
  async hasDevice(userId: string, deviceId: string) {
    return this.devices.has(`${userId}/${deviceId}`);
  }
  async addDevice(device: Device) {
    this.devices.set(`${device.userId}/${device.deviceId}`, device);
  }
  async listDevices(userId: string) {
    return [...this.devices.values()].filter((device) => device.userId === userId);
  }
  async touchDevice(userId: string, deviceId: string, atMs: number) {
    const device = this.devices.get(`${userId}/${deviceId}`);
    if (device) this.devices.set(`${userId}/${deviceId}`, { ...device, lastSeenAtMs: atMs });
  }
  async removeDevice(userId: string, deviceId: string) {
    this.devices.delete(`${userId}/${deviceId}`);
  }
}

export class InMemoryLoginAttemptStore implements LoginAttemptStore {
  readonly failures = new Map<string, LoginFailures>();

  async reserve(email: string, nowMs: number, windowMs: number) {
    // No await between read and write: atomic, like the DynamoDB conditional update.
    const current = this.failures.get(email);
    const open = current && current.firstAtMs > nowMs - windowMs ? current : undefined;
    this.failures.set(
      email,
      open
        ? { ...open, count: open.count + 1, lastAtMs: nowMs }
        : { count: 1, firstAtMs: nowMs, lastAtMs: nowMs },
    );
    return open;
  }
  async release(email: string) {
    const current = this.failures.get(email);
    if (current && current.count > 0) this.failures.set(email, { ...current, count: current.count - 1 });
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

export class InMemoryRevocationStore implements RevocationStore {
  readonly revoked = new Map<string, number>();

  async revokeDevice(deviceId: string, untilMs: number) {
    this.revoked.set(deviceId, Math.max(untilMs, this.revoked.get(deviceId) ?? 0));
  }
  async revokedDevices(nowMs: number) {
    return [...this.revoked].filter(([, untilMs]) => untilMs > nowMs).map(([deviceId]) => deviceId);
  }
}

/** Keeps the codes it was asked to mail, by address. */
export class FakeVerificationMailer implements VerificationMailer {
  readonly sent: { to: string; code: string }[] = [];

  async sendVerificationCode(to: string, code: string) {
    this.sent.push({ to, code });
  }
  lastCodeTo(to: string): string | undefined {
    return this.sent.filter((mail) => mail.to === to).at(-1)?.code;
  }
}
