import { status, type ServiceError } from '@grpc/grpc-js';
import { callMetadata, grpcCode, unary, type metadata } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import {
  CursorAheadError,
  FeedSessionExpiredError,
  PushUnsupportedError,
  type RemoteChangeFeed,
  type RemoteChanges,
} from '../watch/change-feed';
import { TIMEOUTS, type ServiceClients } from './clients';

/** A stream silent for this many heartbeat intervals is taken for dead and reconnected. */
const HEARTBEATS_MISSED = 3;
/** Journal entries per ListChanges page when polling. */
const POLL_PAGE = 100;

/**
 * The metadata service's journal as a RemoteChangeFeed: WatchChanges for push, ListChanges for
 * polling. The stream has no deadline (it lives as long as the watch); a stream that sends no
 * heartbeat for HEARTBEATS_MISSED × LIMITS.watchHeartbeatMs is cancelled as dead instead.
 */
export class GrpcChangeFeed implements RemoteChangeFeed {
  constructor(
    private readonly clients: ServiceClients,
    private readonly accessToken: () => Promise<string>,
    private readonly idleTimeoutMs = HEARTBEATS_MISSED * LIMITS.watchHeartbeatMs,
  ) {}

  async *watch(namespaceId: string, afterCursor: number, signal: AbortSignal): AsyncIterable<RemoteChanges> {
    if (signal.aborted) return;
    const call = this.clients.metadata.watchChanges(
      { namespaceId, afterCursor },
      callMetadata(await this.accessToken()),
    );
    let silent = false;
    let idle: NodeJS.Timeout | undefined;
    const watchIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        silent = true;
        call.cancel();
      }, this.idleTimeoutMs);
    };
    const cancel = () => call.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      watchIdle();
      for await (const message of call as AsyncIterable<metadata.WatchChangesResponse>) {
        watchIdle();
        yield {
          cursor: message.cursor,
          paths: message.entries.flatMap((entry) => entry.changes.map((change) => change.path)),
        };
      }
      if (!signal.aborted) throw new Error('the server ended the push stream');
    } catch (error) {
      if (signal.aborted) return;
      if (silent) throw new Error(`the push stream sent nothing for ${this.idleTimeoutMs} ms`);
      throw feedError(error);
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', cancel);
      call.cancel();
    }
  }

  async changesAfter(namespaceId: string, afterCursor: number): Promise<RemoteChanges & { more: boolean }> {
    try {
      const page = await unary(
        this.clients.metadata.listChanges.bind(this.clients.metadata),
        { namespaceId, afterCursor, limit: POLL_PAGE },
        { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.accessToken() },
      );
      return {
        cursor: page.cursor,
        paths: page.entries.flatMap((entry) => entry.changes.map((change) => change.path)),
        more: page.hasMore,
      };
    } catch (error) {
      throw feedError(error);
    }
  }
}

/** The port's errors for the statuses the watch loop acts on; anything else is passing. */
function feedError(error: unknown): unknown {
  switch (grpcCode(error)) {
    case status.UNIMPLEMENTED:
      return new PushUnsupportedError((error as ServiceError).details);
    case status.UNAUTHENTICATED:
      return new FeedSessionExpiredError((error as ServiceError).details);
    case status.FAILED_PRECONDITION: {
      const cursor = (error as ServiceError).metadata?.get('filesync-cursor') ?? [];
      return cursor.includes('ahead') ? new CursorAheadError((error as ServiceError).details) : error;
    }
    default:
      return error;
  }
}
