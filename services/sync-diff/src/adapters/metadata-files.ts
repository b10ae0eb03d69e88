import type { common, metadata } from '@filesync/contracts';
import { callMetadata, unary } from '@filesync/contracts';
import type { ListingPage, ServerFile } from '../domain/diff';
import type { CallBudget, ServerFiles } from '../domain/ports';

/** A server entry for the diff, keeping the full proto entry to hand back to the client. */
export interface MetadataFile extends ServerFile {
  readonly entry: common.FileEntry;
}

/** Reads server state through MetadataService, never from its tables. */
export class MetadataFiles implements ServerFiles<MetadataFile> {
  constructor(private readonly client: metadata.MetadataServiceClient) {}

  async *list(namespaceId: string, budget: CallBudget): AsyncGenerator<ListingPage<MetadataFile>> {
    const call = this.client.listFiles(
      { namespaceId, includeDeleted: true },
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

  async findMissingBlocks(
    namespaceId: string,
    blockHashes: readonly string[],
    budget: CallBudget,
  ): Promise<string[]> {
    const response = await unary(
      this.client.findMissingBlocks.bind(this.client),
      { namespaceId, blockHashes: [...blockHashes] },
      {
        timeoutMs: Math.max(1, budget.deadline.getTime() - Date.now()),
        accessToken: budget.accessToken,
        signal: budget.signal,
      },
    );
    return response.missingBlockHashes;
  }
}

function toMetadataFile(entry: common.FileEntry): MetadataFile {
  return {
    path: entry.path,
    version: entry.version,
    deleted: entry.deleted,
    contentHash: entry.deleted ? '' : (entry.content?.contentHash ?? ''),
    entry,
  };
}
