import type { ListingPage, ServerFile } from './diff';

/** On whose behalf and until when a call to the server's file metadata may run. */
export interface CallBudget {
  /** The caller's bearer token, forwarded so metadata applies the caller's own permissions. */
  readonly accessToken: string | undefined;
  readonly deadline: Date;
  readonly signal: AbortSignal;
}

/** Server-side file state, as the metadata service reports it. */
export interface ServerFiles<S extends ServerFile> {
  /** Current entries and tombstones of a namespace, page by page in path order. */
  list(namespaceId: string, budget: CallBudget): AsyncIterable<ListingPage<S>>;
  /** The given block hashes the namespace lacks, in request order. */
  findMissingBlocks(
    namespaceId: string,
    blockHashes: readonly string[],
    budget: CallBudget,
  ): Promise<string[]>;
}
