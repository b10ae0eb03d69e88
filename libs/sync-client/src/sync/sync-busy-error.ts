// A module of its own, without the pid lock's dependencies: the CLI's first chunk maps it to an
// exit code (cli/exit-codes.ts).

/** Another pass (or `forget`) holds this home's sync lock; `pid` is its process. */
export class SyncBusyError extends Error {
  override name = 'SyncBusyError';
  constructor(readonly pid: number) {
    super(
      `another filesync sync is running for this home (pid ${pid}): wait for it to finish, or stop it ` +
        '(its work so far is kept) and run this again',
    );
  }
}
