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

export async function mailTo(sesEndpoint: string, address: string): Promise<StoredMail[]> {
  const response = await fetch(`${sesEndpoint}/store`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${sesEndpoint}/store answered ${response.status}`);
  const store = (await response.json()) as { emails: StoredMail[] };
  return store.emails.filter((mail) =>
    mail.destination.to.some((to) => to.toLowerCase() === address.toLowerCase()),
  );
}

/** Polls the mailbox until `address` has at least `count` mails, or fails after `timeoutMs`. */
export async function waitForMail(
  sesEndpoint: string,
  address: string,
  { count = 1, timeoutMs = 10_000 }: { count?: number; timeoutMs?: number } = {},
): Promise<StoredMail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = await mailTo(sesEndpoint, address);
    if (mails.length >= count) return mails;
    if (Date.now() > deadline) {
      throw new Error(`${address} got ${mails.length} mail(s) within ${timeoutMs} ms, expected ${count}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
