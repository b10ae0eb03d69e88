import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A signed-in device as kept on disk between runs. */
export interface StoredSession {
  readonly server: string;
  readonly email: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly rootNamespaceId: string;
  readonly accessToken: string;
  readonly accessTokenExpiresAtMs: number;
  readonly refreshToken: string;
  readonly refreshTokenExpiresAtMs: number;
}

const FIELDS: Record<keyof StoredSession, 'string' | 'number'> = {
  server: 'string',
  email: 'string',
  userId: 'string',
  deviceId: 'string',
  deviceName: 'string',
  rootNamespaceId: 'string',
  accessToken: 'string',
  accessTokenExpiresAtMs: 'number',
  refreshToken: 'string',
  refreshTokenExpiresAtMs: 'number',
};

export class CorruptSessionError extends Error {
  override name = 'CorruptSessionError';
}

/**
 * session.json in the filesync home. It holds bearer secrets, so it is created with mode 0600
 * and replaced by rename: a crash mid-write never leaves a half-written token file.
 */
export class SessionStore {
  readonly file: string;

  constructor(readonly home: string) {
    this.file = join(home, 'session.json');
  }

  async load(): Promise<StoredSession | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CorruptSessionError(`${this.file} is not valid JSON: log in again`);
    }
    const record = parsed as Record<string, unknown>;
    for (const [key, type] of Object.entries(FIELDS)) {
      if (typeof record?.[key] !== type) {
        throw new CorruptSessionError(`${this.file} lacks '${key}': log in again`);
      }
    }
    return parsed as StoredSession;
  }

  async save(session: StoredSession): Promise<void> {
    await mkdir(this.home, { recursive: true, mode: 0o700 });
    const temp = join(this.home, `.session.json.${randomBytes(6).toString('hex')}`);
    try {
      await writeFile(temp, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async clear(): Promise<void> {
    await rm(this.file, { force: true });
  }
}
