import { ActionKind } from './gen/filesync/syncdiff/v1/syncdiff';

/**
 * The Diff action of each kind of decision (sync-core's ActionKind, whose names these keys
 * spell): the one map sync-diff answers with and the client's adapter reads answers with
 * (libs/sync-client/src/grpc/sync-mapping.ts). A kind the rule gains without an action here does
 * not compile where the map is indexed.
 */
export const ACTION_OF = {
  upload: ActionKind.ACTION_KIND_UPLOAD,
  download: ActionKind.ACTION_KIND_DOWNLOAD,
  'delete-local': ActionKind.ACTION_KIND_DELETE_LOCAL,
  'delete-remote': ActionKind.ACTION_KIND_DELETE_REMOTE,
  conflict: ActionKind.ACTION_KIND_CONFLICT,
  record: ActionKind.ACTION_KIND_RECORD,
  'move-local': ActionKind.ACTION_KIND_MOVE_LOCAL,
} as const satisfies Record<string, ActionKind>;
