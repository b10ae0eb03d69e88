import { invalidArgument } from '@filesync/server-kit';

export const PASSWORD_MIN_CHARS = 10;
export const PASSWORD_MAX_CHARS = 1024;
export const DEVICE_NAME_MAX_CHARS = 100;
const EMAIL_MAX_CHARS = 254;

// Deliberately loose: one @, no whitespace, a dot in the domain. Deliverability is proven by mail, not regexes.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Lowercased and trimmed, so one mailbox cannot hold two accounts by case alone. */
export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email === '') throw invalidArgument('email is required');
  if (email.length > EMAIL_MAX_CHARS || !EMAIL_SHAPE.test(email)) {
    throw invalidArgument(
      `email is not a valid address: expected name@domain.tld, at most ${EMAIL_MAX_CHARS} characters`,
    );
  }
  return email;
}

/** Counted in code points so a password of emoji is not judged by its UTF-16 length. */
const charCount = (value: string) => [...value].length;

export function checkNewPassword(password: string): string {
  const chars = charCount(password);
  if (chars < PASSWORD_MIN_CHARS || chars > PASSWORD_MAX_CHARS) {
    throw invalidArgument(
      `password must be ${PASSWORD_MIN_CHARS} to ${PASSWORD_MAX_CHARS} characters long, got ${chars}`,
    );
  }
  return password;
}

/** Login only bounds the size: hashing a megabyte per attempt would be a cheap way to burn our CPU. */
export function checkLoginPassword(password: string): string {
  if (password === '') throw invalidArgument('password is required');
  if (charCount(password) > PASSWORD_MAX_CHARS) {
    throw invalidArgument(`password must be at most ${PASSWORD_MAX_CHARS} characters long`);
  }
  return password;
}

const DEVICE_ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A device id as ListDevices names it (a UUID); anything else is INVALID_ARGUMENT. */
export function checkDeviceId(raw: string): string {
  if (raw === '') throw invalidArgument('device_id is required: name a device as `ListDevices` lists it');
  if (!DEVICE_ID_SHAPE.test(raw))
    throw invalidArgument('device_id is malformed: expected a device id (a UUID)');
  return raw;
}

/** An empty name is allowed (clients may not ask for one); control characters are not. */
export function deviceNameOf(raw: string): string {
  const name = raw.trim();
  if (name === '') return 'unnamed device';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name))
    throw invalidArgument('device_name must not contain control characters');
  if (charCount(name) > DEVICE_NAME_MAX_CHARS) {
    throw invalidArgument(`device_name must be at most ${DEVICE_NAME_MAX_CHARS} characters long`);
  }
  return name;
}
