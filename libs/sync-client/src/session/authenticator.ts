import { hostname } from 'node:os';
import { auth, unary } from '@filesync/contracts';
import { TIMEOUTS } from '../grpc/clients';
import { LogoutNotSentError, NotSignedInError } from './errors';
import type { SessionStore, StoredSession } from './session-store';

/** Access tokens are renewed this long before they expire, so no call starts with a dying token. */
const REFRESH_MARGIN_MS = 60_000;

export { NotSignedInError };

/** Signs the device in and hands out a valid access token, refreshing and rotating as needed. */
export class Authenticator {
  private current: StoredSession | undefined;
  private refreshing: Promise<StoredSession> | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly client: auth.AuthServiceClient,
    private readonly server: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads the stored session, if any. */
  async load(): Promise<StoredSession | undefined> {
    this.current = await this.store.load();
    return this.current;
  }

  get session(): StoredSession | undefined {
    return this.current;
  }

  requireSession(): StoredSession {
    if (!this.current) throw new NotSignedInError();
    return this.current;
  }

  async signUp(email: string, password: string, deviceName = defaultDeviceName()): Promise<StoredSession> {
    const response = await unary(
      this.client.signUp.bind(this.client),
      { email, password, deviceName },
      { timeoutMs: TIMEOUTS.passwordMs },
    );
    return this.adopt(response.session, deviceName);
  }

  async login(email: string, password: string, deviceName = defaultDeviceName()): Promise<StoredSession> {
    const response = await unary(
      this.client.login.bind(this.client),
      { email, password, deviceName },
      { timeoutMs: TIMEOUTS.passwordMs },
    );
    return this.adopt(response.session, deviceName);
  }

  /**
   * Confirms the account's email with the mailed code and keeps the access token auth answers,
   * which says so: notifications (follows) need it at once, not after the next refresh.
   */
  async verifyEmail(code: string): Promise<void> {
    const response = await unary(
      this.client.verifyEmail.bind(this.client),
      { code },
      { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.accessToken() },
    );
    const session = this.requireSession();
    const stored: StoredSession = {
      ...session,
      accessToken: response.accessToken,
      accessTokenExpiresAtMs: response.accessTokenExpiresAtMs,
    };
    await this.store.save(stored);
    this.current = stored;
  }

  /** Asks for a new verification mail; true when the address was verified already. */
  async resendVerificationEmail(): Promise<boolean> {
    const response = await unary(
      this.client.resendVerificationEmail.bind(this.client),
      {},
      { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.accessToken() },
    );
    return response.alreadyVerified;
  }

  /**
   * Ends this device's session: the server revokes its tokens and forgets the device, then the
   * stored session is removed. When the server cannot be told (unreachable, or the session had
   * ended already) the local session is removed all the same and `revoked` is false: the refresh
   * token is gone with it, and the device stays listed until `filesync devices remove`.
   * `fixableHere` names a failure the user can fix on this device (a TLS misconfiguration): then
   * the session is kept and LogoutNotSentError says why, so logging out again ends it on the
   * server too. Throws NotSignedInError when nobody is signed in.
   */
  async logout(
    options: { fixableHere?: (error: unknown) => string | undefined } = {},
  ): Promise<{ revoked: boolean; error?: unknown }> {
    const session = this.requireSession();
    let outcome: { revoked: boolean; error?: unknown };
    try {
      await unary(
        this.client.logout.bind(this.client),
        { refreshToken: session.refreshToken },
        { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.accessToken() },
      );
      outcome = { revoked: true };
    } catch (error) {
      const reason = options.fixableHere?.(error);
      if (reason !== undefined) {
        throw new LogoutNotSentError(reason, session.deviceName || session.deviceId, { cause: error });
      }
      outcome = { revoked: false, error };
    }
    await this.store.clear();
    this.current = undefined;
    return outcome;
  }

  /**
   * Renews the access token now, whatever its expiry: it carries claims (a just-verified email)
   * that may have changed since it was issued, e.g. on another device.
   */
  async renewAccessToken(): Promise<string> {
    return this.renew(this.requireSession());
  }

  /** A valid access token; concurrent callers share one refresh. */
  async accessToken(): Promise<string> {
    const session = this.requireSession();
    if (session.accessTokenExpiresAtMs - REFRESH_MARGIN_MS > this.now()) return session.accessToken;
    return this.renew(session);
  }

  private async renew(session: StoredSession): Promise<string> {
    this.refreshing ??= this.refresh(session).finally(() => {
      this.refreshing = undefined;
    });
    return (await this.refreshing).accessToken;
  }

  private async refresh(session: StoredSession): Promise<StoredSession> {
    const response = await unary(
      this.client.refreshSession.bind(this.client),
      { refreshToken: session.refreshToken },
      { timeoutMs: TIMEOUTS.unaryMs },
    );
    // The old refresh token is now spent: the rotated one must reach disk before anything else.
    return this.adopt(response.session, session.deviceName);
  }

  private async adopt(session: auth.Session | undefined, deviceName: string): Promise<StoredSession> {
    if (!session) throw new Error('auth service answered without a session');
    const stored: StoredSession = {
      server: this.server,
      email: session.email,
      userId: session.userId,
      deviceId: session.deviceId,
      deviceName,
      rootNamespaceId: session.rootNamespaceId,
      accessToken: session.accessToken,
      accessTokenExpiresAtMs: session.accessTokenExpiresAtMs,
      refreshToken: session.refreshToken,
      refreshTokenExpiresAtMs: session.refreshTokenExpiresAtMs,
    };
    await this.store.save(stored);
    this.current = stored;
    return stored;
  }
}

function defaultDeviceName(): string {
  return hostname() || 'device';
}
