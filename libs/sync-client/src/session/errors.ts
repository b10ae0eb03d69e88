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
