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
  /** Confirmed with a mailed code; accounts made before verification existed read false. */
  readonly emailVerified: boolean;
}

export interface Device {
  readonly userId: string;
  readonly deviceId: string;
  readonly name: string;
  readonly createdAtMs: number;
  /** Last session renewal (or sign-in), Unix ms; absent for devices no renewal has touched. */
  readonly lastSeenAtMs?: number;
}

export interface AccountStore {
  /** Creates account, profile and first device at once; throws ALREADY_EXISTS when the email is taken. */
  createAccount(account: Account, firstDevice: Device): Promise<void>;
  findByEmail(email: string): Promise<Account | undefined>;
  findProfile(userId: string): Promise<Profile | undefined>;
  addDevice(device: Device): Promise<void>;
  listDevices(userId: string): Promise<Device[]>;
  /** Strongly consistent: a device removed by Logout is gone for the very next call. */
  hasDevice(userId: string, deviceId: string): Promise<boolean>;
  removeDevice(userId: string, deviceId: string): Promise<void>;
  /** Records that the device renewed its session at `atMs`; a device removed meanwhile stays gone. */
  touchDevice(userId: string, deviceId: string, atMs: number): Promise<void>;
}

/**
 * Devices whose access tokens must be refused before they expire (logged out). Entries live
 * only until every token of the device has expired, so the list stays as short as the number
 * of logouts within one access-token lifetime.
 */
export interface RevocationStore {
  revokeDevice(deviceId: string, untilMs: number): Promise<void>;
  /** Device ids revoked and not yet past their `untilMs`. */
  revokedDevices(nowMs: number): Promise<string[]>;
}

/** Recent failed logins of one email. */
export interface LoginFailures {
  readonly count: number;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
}

export interface LoginAttemptStore {
  /**
   * Atomically counts one attempt for the email (as a failure until it succeeds) and answers the
   * state as it was just before it, undefined when no window was open: concurrent attempts each
   * see a distinct count, so no burst can pass the throttle together. A window older than
   * windowMs starts over.
   */
  reserve(email: string, nowMs: number, windowMs: number): Promise<LoginFailures | undefined>;
  /** Gives back one reserved attempt whose password was never checked. */
  release(email: string): Promise<void>;
  /** Forgets the email's attempts after a successful login. */
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

/** A verification code waiting to be typed in; only its hash is stored. */
export interface PendingVerification {
  readonly codeHash: string;
  readonly expiresAtMs: number;
  readonly sentAtMs: number;
  /** Guesses counted against this code so far. */
  readonly attempts: number;
}

export interface VerificationState {
  readonly emailVerified: boolean;
  readonly pending: PendingVerification | undefined;
}

export interface VerificationStore {
  /** Undefined when the account does not exist. */
  verificationState(userId: string): Promise<VerificationState | undefined>;
  /**
   * Replaces any pending code with this one (attempts back to 0), unless the address is verified
   * or a code was sent after `notSentAfterMs`: false then, nothing changed.
   */
  putVerificationCode(
    userId: string,
    code: Omit<PendingVerification, 'attempts'>,
    notSentAfterMs: number,
  ): Promise<boolean>;
  /**
   * Atomically counts one guess against the pending code with this hash and answers the count
   * before it; undefined when that code is no longer the pending one.
   */
  countVerificationGuess(userId: string, codeHash: string): Promise<number | undefined>;
  /** Marks the address verified and drops the code, if it is still the pending one. */
  confirmEmail(userId: string, codeHash: string): Promise<boolean>;
}

export interface VerificationMailer {
  /** Mails the code to the address (SES). */
  sendVerificationCode(to: string, code: string): Promise<void>;
}
