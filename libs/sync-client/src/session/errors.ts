// Errors of the session that the CLI's error mapping tells apart. A module of their own, without
// gRPC: the CLI's first chunk (`--help`, usage errors) imports them (see cli/exit-codes.ts).

/** No session on this device: nobody signed in, or `filesync logout` ended it. */
export class NotSignedInError extends Error {
  override name = 'NotSignedInError';
  constructor() {
    super('not signed in on this device: run `filesync login --email ADDRESS` (or `filesync signup`)');
  }
}

/** `filesync devices remove` named no device of the account, several, or this one. */
export class DeviceChoiceError extends Error {
  override name = 'DeviceChoiceError';
}

/**
 * `filesync logout` could not tell the server, for a reason to fix on this device (the server's
 * certificate is not trusted, TLS against plaintext). The session is kept: ended only here, it
 * would stay live on the server with nothing left on this device to end it.
 */
export class LogoutNotSentError extends Error {
  override name = 'LogoutNotSentError';
  constructor(
    /** What went wrong and how to fix it (describeTlsFailure's line). */
    readonly reason: string,
    /** This device, as `filesync devices` names it. */
    readonly device: string,
    options?: ErrorOptions,
  ) {
    super(
      `not logged out: this device is still signed in, because the server could not be told: ${reason}. ` +
        `Then run \`filesync logout\` again, or sign this device out from another one with ` +
        `\`filesync devices remove ${device}\``,
      options,
    );
  }
}

/**
 * The home (`--home`, FILESYNC_HOME, ~/.filesync) cannot hold the session and sync state: it
 * cannot be made, is a file, or this user may not write in it. A choice to change, like a usage error.
 */
export class HomeUnusableError extends Error {
  override name = 'HomeUnusableError';
  constructor(
    readonly home: string,
    cause: NodeJS.ErrnoException,
  ) {
    const at = cause.path ?? home;
    const denied = cause.code === 'EACCES' || cause.code === 'EPERM';
    const reason = denied
      ? `permission denied on ${at}`
      : cause.code === 'ENOTDIR' || cause.code === 'EEXIST'
        ? `${at} is a file, not a folder`
        : cause.code === 'ENOENT'
          ? `no folder can be made at ${at} (${at.slice(0, at.lastIndexOf('/')) || '/'} does not allow it)`
          : cause.code === 'EROFS'
            ? `${at} is on a read-only file system`
            : cause.message;
    super(
      `cannot use ${home} as the filesync home, where this device's session and sync state live: ` +
        `${reason}${cause.code && !reason.includes(cause.code) ? ` (${cause.code})` : ''}. Choose another ` +
        `folder with --home DIR or FILESYNC_HOME` +
        (denied ? ', or give this user permission to write there' : ''),
      { cause },
    );
  }
}
