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
