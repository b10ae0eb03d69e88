/** One mail as aws-ses-v2-local's GET /store lists it. */
export interface StoredMail {
  readonly messageId: string;
  readonly from: string;
  readonly destination: { readonly to: readonly string[] };
  readonly subject: string;
  readonly body: { readonly text?: string; readonly html?: string };
  /** Unix seconds. */
  readonly at: number;
}

/** Auth's verification mails say this in the subject, followed by the code. */
const VERIFICATION_SUBJECT = /verification code is (\d{6})/;

/** Notification mails (the default) or auth's verification mails, or both. */
export type MailKind = 'notification' | 'verification' | 'any';

/**
 * The mails sent to `address`. By default only notifications: every sign-up also gets a
 * verification mail, which tests about notifications must not count.
 */
export async function mailTo(
  sesEndpoint: string,
  address: string,
  kind: MailKind = 'notification',
): Promise<StoredMail[]> {
  const response = await fetch(`${sesEndpoint}/store`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${sesEndpoint}/store answered ${response.status}`);
  const store = (await response.json()) as { emails: StoredMail[] };
  return store.emails.filter(
    (mail) =>
      mail.destination.to.some((to) => to.toLowerCase() === address.toLowerCase()) &&
      (kind === 'any' || VERIFICATION_SUBJECT.test(mail.subject) === (kind === 'verification')),
  );
}

/** The code of the newest verification mail to `address`, waiting for it to arrive. */
export async function verificationCode(sesEndpoint: string, address: string, count = 1): Promise<string> {
  const mails = await waitForMail(sesEndpoint, address, { count, kind: 'verification' });
  const code = VERIFICATION_SUBJECT.exec(mails.at(-1)?.subject ?? '')?.[1];
  if (!code) throw new Error(`no verification code in the mail to ${address}`);
  return code;
}

/** Polls the mailbox until `address` has at least `count` mails, or fails after `timeoutMs`. */
export async function waitForMail(
  sesEndpoint: string,
  address: string,
  {
    count = 1,
    timeoutMs = 10_000,
    kind = 'notification',
  }: { count?: number; timeoutMs?: number; kind?: MailKind } = {},
): Promise<StoredMail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = await mailTo(sesEndpoint, address, kind);
    if (mails.length >= count) return mails;
    if (Date.now() > deadline) {
      throw new Error(`${address} got ${mails.length} mail(s) within ${timeoutMs} ms, expected ${count}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
