import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { failedPrecondition, invalidArgument, resourceExhausted, type Principal } from '@filesync/server-kit';
import type { IssuedAccessToken } from './access-tokens';
import type { AccountStore, Clock, VerificationMailer, VerificationStore } from './ports';
import type { Sessions } from './sessions';

export const EMAIL_VERIFICATION = {
  codeDigits: 6,
  codeTtlMs: 24 * 3600_000,
  /** Wrong guesses a code survives; then only a new code helps. */
  maxGuesses: 5,
  /** A new code is mailed at most this often per account. */
  resendIntervalMs: 60_000,
} as const;

const RESEND_HINT = 'ask for a new code with `filesync verify --resend`';

/** Accepts the code as typed: spaces and dashes are ignored, anything else must be the digits. */
export function verificationCodeOf(raw: string): string {
  const code = raw.replace(/[\s-]/g, '');
  if (!new RegExp(`^\\d{${EMAIL_VERIFICATION.codeDigits}}$`).test(code)) {
    throw invalidArgument(
      `code must be the ${EMAIL_VERIFICATION.codeDigits} digits from the verification mail`,
    );
  }
  return code;
}

/** Bound to the user, so a code's hash is useless for any other account. */
function codeHash(userId: string, code: string): string {
  return createHash('sha256').update(`${userId}:${code}`, 'utf8').digest('hex');
}

/**
 * Confirms that an account's owner reads its email address: a code is mailed at sign-up (and on
 * request); typing it back marks the address verified, which the access token then carries as
 * `email_verified`. Only verified addresses are ever mailed notifications. Guesses are counted
 * atomically before they are compared, so a burst cannot try more than maxGuesses codes.
 */
export class EmailVerification {
  constructor(
    private readonly deps: {
      readonly accounts: AccountStore;
      readonly store: VerificationStore;
      readonly mailer: VerificationMailer;
      readonly sessions: Sessions;
      readonly clock: Clock;
    },
  ) {}

  /** Mails a fresh code to the caller; false (no mail) when the address is verified already. */
  async sendCode(userId: string, email: string): Promise<boolean> {
    const { store, mailer, clock } = this.deps;
    const now = clock.now();
    const code = String(randomInt(0, 10 ** EMAIL_VERIFICATION.codeDigits)).padStart(
      EMAIL_VERIFICATION.codeDigits,
      '0',
    );
    const pending = {
      codeHash: codeHash(userId, code),
      expiresAtMs: now + EMAIL_VERIFICATION.codeTtlMs,
      sentAtMs: now,
    };
    if (!(await store.putVerificationCode(userId, pending, now - EMAIL_VERIFICATION.resendIntervalMs))) {
      const state = await store.verificationState(userId);
      if (!state || state.emailVerified) return false;
      const waitMs = Math.max(
        1,
        (state.pending?.sentAtMs ?? now) + EMAIL_VERIFICATION.resendIntervalMs - now,
      );
      throw resourceExhausted(
        `a verification mail was sent less than a minute ago: check your mailbox, or retry in ${Math.ceil(waitMs / 1000)} s`,
        waitMs,
      );
    }
    await mailer.sendVerificationCode(email, code);
    return true;
  }

  /** Answers whether the address was verified already (then nothing is mailed). */
  async resend(caller: Principal): Promise<{ alreadyVerified: boolean }> {
    const profile = await this.deps.accounts.findProfile(caller.userId);
    if (!profile) throw failedPrecondition('the account no longer exists');
    if (profile.emailVerified) return { alreadyVerified: true };
    return { alreadyVerified: !(await this.sendCode(profile.userId, profile.email)) };
  }

  /** Confirms the address; answers an access token for the calling device that says so. */
  async verify(caller: Principal, code: string): Promise<IssuedAccessToken> {
    const { accounts, store, sessions, clock } = this.deps;
    const state = await store.verificationState(caller.userId);
    if (!state) throw failedPrecondition('the account no longer exists');
    if (!state.emailVerified) {
      const pending = state.pending;
      if (!pending || pending.expiresAtMs <= clock.now()) {
        throw failedPrecondition(`no verification code is pending or it expired: ${RESEND_HINT}`);
      }
      const before = await store.countVerificationGuess(caller.userId, pending.codeHash);
      if (before === undefined)
        throw failedPrecondition(`that code was replaced by a newer one: ${RESEND_HINT}`);
      if (before >= EMAIL_VERIFICATION.maxGuesses) {
        throw failedPrecondition(`too many wrong codes: ${RESEND_HINT}`);
      }
      const guess = Buffer.from(codeHash(caller.userId, code), 'hex');
      if (!timingSafeEqual(guess, Buffer.from(pending.codeHash, 'hex'))) {
        const left = EMAIL_VERIFICATION.maxGuesses - before - 1;
        throw failedPrecondition(
          left > 0
            ? `the code is wrong: ${left} more ${left === 1 ? 'try' : 'tries'}`
            : `the code is wrong: ${RESEND_HINT}`,
        );
      }
      if (!(await store.confirmEmail(caller.userId, pending.codeHash))) {
        throw failedPrecondition(`that code was replaced by a newer one: ${RESEND_HINT}`);
      }
    }
    const profile = await accounts.findProfile(caller.userId);
    if (!profile) throw failedPrecondition('the account no longer exists');
    return sessions.accessTokenFor({ ...profile, emailVerified: true }, caller.deviceId);
  }
}
