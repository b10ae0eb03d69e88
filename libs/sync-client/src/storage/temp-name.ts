import { randomBytes } from 'node:crypto';

/** Prefix of the temp files downloads write before renaming them into place. */
export const TEMP_PREFIX = '.filesync-tmp-';
/** Random bytes after the prefix, written as lowercase hex. */
const TEMP_RANDOM_BYTES = 8;
/**
 * Exactly the names newTempName makes. Only these are ours: the scan removes them as partial
 * downloads of a killed run, so anything looser would delete a user's own `.filesync-tmp-notes`.
 */
const OUR_TEMP_NAME = new RegExp(`^${TEMP_PREFIX.replaceAll('.', '\\.')}[0-9a-f]{${TEMP_RANDOM_BYTES * 2}}$`);

/** A fresh name for a download's temp file. */
export function newTempName(): string {
  return `${TEMP_PREFIX}${randomBytes(TEMP_RANDOM_BYTES).toString('hex')}`;
}

/** True only for a name newTempName could have made; every other name is the user's. */
export function isOurTempName(name: string): boolean {
  return OUR_TEMP_NAME.test(name);
}
