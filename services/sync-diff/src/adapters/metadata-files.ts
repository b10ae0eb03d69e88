import type { common, metadata } from '@filesync/contracts';
import { callMetadata, unary } from '@filesync/contracts';
import type { ListingPage, ServerFile } from '../domain/diff';
import type { CallBudget, CurrentEntries, JournalPage, ServerFiles } from '../domain/ports';

/** A server entry for the diff, keeping the full proto entry to hand back to the client. */
export interface MetadataFile extends ServerFile {
  readonly entry: common.FileEntry;
}

/** Reads server state through MetadataService, never from its tables. */
export class MetadataFiles implements ServerFiles<MetadataFile> {
  constructor(private readonly client: metadata.MetadataServiceClient) {}

  async *list(
    namespaceId: string,
    budget: CallBudget,
    below = '',
    after = '',
  ): AsyncGenerator<ListingPage<MetadataFile>> {
    const call = this.client.listFiles(
      { namespaceId, includeDeleted: true, pathPrefix: below, startAfter: after },
      callMetadata(budget.accessToken),
      { deadline: budget.deadline },
    );
    const cancel = () => call.cancel();
    budget.signal.addEventListener('abort', cancel, { once: true });
    try {
      for await (const page of call as AsyncIterable<metadata.ListFilesResponse>) {
        yield { cursor: page.cursor, entries: page.entries.map(toMetadataFile) };
      }
    } finally {
      budget.signal.removeEventListener('abort', cancel);
      // Ends the stream when the consumer stopped early (a no-op once it completed). The
      // CANCELLED status that follows has no reader left: without a listener it would crash.
      call.on('error', () => {});
      call.cancel();
    }
  }

  async changes(
    namespaceId: string,
    afterCursor: number,
    limit: number,
    budget: CallBudget,
  ): Promise<JournalPage<MetadataFile>> {
    const response = await unary(
      this.client.listChanges.bind(this.client),
      { namespaceId, afterCursor, limit },
      settingsOf(budget),
    );
    return {
      records: response.entries.map(({ seq, changes }) => ({ seq, changes: changes.map(toMetadataFile) })),
      cursor: response.cursor,
      hasMore: response.hasMore,
    };
  }

  async currentEntries(
    namespaceId: string,
    paths: readonly string[],
    budget: CallBudget,
  ): Promise<CurrentEntries<MetadataFile>> {
    const response = await unary(
      this.client.getFiles.bind(this.client),
      { namespaceId, paths: [...paths] },
      settingsOf(budget),
    );
    return { entries: response.entries.map(toMetadataFile), pathsAnswered: response.pathsAnswered };
  }

  async findMissingBlocks(
    namespaceId: string,
    blockHashes: readonly string[],
    budget: CallBudget,
  ): Promise<string[]> {
    const response = await unary(
      this.client.findMissingBlocks.bind(this.client),
      { namespaceId, blockHashes: [...blockHashes] },
      settingsOf(budget),
    );
    return response.missingBlockHashes;
  }
}

/** A unary call that ends with the caller's deadline and cancellation, and acts with its token. */
function settingsOf(budget: CallBudget) {
  return {
    timeoutMs: Math.max(1, budget.deadline.getTime() - Date.now()),
    accessToken: budget.accessToken,
    signal: budget.signal,
  };
}

function toMetadataFile(entry: common.FileEntry): MetadataFile {
  return {
    path: entry.path,
    version: entry.version,
    deleted: entry.deleted,
    contentHash: entry.deleted ? '' : (entry.content?.contentHash ?? ''),
    ...(entry.movedFrom ? { movedFrom: entry.movedFrom } : {}),
    ...(entry.movedTo ? { movedTo: entry.movedTo } : {}),
    entry,
  };
}
