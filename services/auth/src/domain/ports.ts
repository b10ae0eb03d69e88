/**
 * What the auth domain needs from the outside world. Adapters (DynamoDB, STS) implement these;
 * unit tests use small in-memory fakes.
 */

export interface Account {
  readonly userId: string;
  /** Normalised (lowercase) address. */
  readonly email: string;
  /** Argon2id PHC string. */
  readonly passwordHash: string;
  readonly rootNamespaceId: string;
  readonly createdAtMs: number;
}

/** What a session's tokens are minted from; read again on every refresh. */
export interface Profile {
  readonly userId: string;
  readonly email: string;
  readonly rootNamespaceId: string;
}

export interface Device {
  readonly userId: string;
  readonly deviceId: string;
  readonly name: string;
  readonly createdAtMs: number;
}

export interface AccountStore {
  /** Creates account, profile and first device at once; throws ALREADY_EXISTS when the email is taken. */
  createAccount(account: Account, firstDevice: Device): Promise<void>;
  findByEmail(email: string): Promise<Account | undefined>;
  findProfile(userId: string): Promise<Profile | undefined>;
  addDevice(device: Device): Promise<void>;
  listDevices(userId: string): Promise<Device[]>;
  removeDevice(userId: string, deviceId: string): Promise<void>;
}

/** Recent failed logins of one email. */
export interface LoginFailures {
  readonly count: number;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
}

export interface LoginAttemptStore {
  get(email: string): Promise<LoginFailures | undefined>;
  /** Counts one failure; a window older than windowMs starts over at 1. Returns the new state. */
  recordFailure(email: string, nowMs: number, windowMs: number): Promise<LoginFailures>;
  clear(email: string): Promise<void>;
}

/** A refresh token as stored: by the SHA-256 of its value, never the value itself. */
export interface RefreshTokenRecord {
  readonly tokenHash: string;
  readonly userId: string;
  readonly deviceId: string;
  /** All tokens rotated from one login share a family; reuse of any revokes all. */
  readonly familyId: string;
  /** Unix seconds (also the table's TTL attribute). */
  readonly expiresAt: number;
  readonly usedAtMs?: number | undefined;
}

export type RotationOutcome = 'rotated' | 'already-used' | 'family-revoked';

export interface TokenStore {
  /** Stores the first token of a new family. */
  startFamily(first: RefreshTokenRecord): Promise<void>;
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /** True when the family is revoked or unknown (fail closed). */
  isFamilyRevoked(familyId: string): Promise<boolean>;
  /**
   * Atomically marks `current` used and stores `next` in the same family, unless `current` was
   * used already (a concurrent or replayed refresh) or the family was revoked meanwhile.
   */
  rotate(current: RefreshTokenRecord, next: RefreshTokenRecord, nowMs: number): Promise<RotationOutcome>;
  revokeFamily(familyId: string): Promise<void>;
}

export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiresAtMs: number;
}

export interface CredentialIssuer {
  /** Assumes the storage role narrowed by `sessionPolicy` (a JSON IAM policy document). */
  issue(request: {
    sessionName: string;
    sessionPolicy: string;
    durationSeconds: number;
  }): Promise<TemporaryCredentials>;
}

export interface Clock {
  /** Unix milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
