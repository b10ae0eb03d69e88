import { z } from 'zod';

/**
 * A change event as metadata's outbox relay puts it on the queue: one per committed
 * transaction, with its recipients already resolved. Unknown fields are ignored so metadata can
 * add some without breaking a running notifier.
 */
export const changeEventSchema = z.object({
  eventId: z.string().min(1),
  namespaceId: z.string().min(1),
  seq: z.number().int().nonnegative(),
  committedAtMs: z.number().int().nonnegative(),
  actor: z.object({ userId: z.string().min(1), deviceId: z.string(), email: z.string() }),
  changes: z.array(
    z.object({
      path: z.string().min(1),
      version: z.number().int().nonnegative(),
      deleted: z.boolean(),
      size: z.number().int().nonnegative(),
      /** The two halves of a move: the new path's version names the old path, and the other way. */
      movedFrom: z.string().min(1).optional(),
      movedTo: z.string().min(1).optional(),
    }),
  ),
  recipients: z.array(
    z.object({
      userId: z.string().min(1),
      email: z.string().regex(/^[^\s@]+@[^\s@]+$/, 'expected an email address'),
      /**
       * Metadata sets it only for follows of a confirmed address. Absent in events queued before
       * verification existed: such a recipient is never mailed.
       */
      emailVerified: z.boolean().optional(),
      paths: z.array(z.string()),
    }),
  ),
});

export type ChangeEvent = z.infer<typeof changeEventSchema>;
export type Recipient = ChangeEvent['recipients'][number];

export type ParsedEvent = { ok: true; event: ChangeEvent } | { ok: false; problem: string };

/** Parses a message body; the problem text names fields only, never their values. */
export function parseChangeEvent(body: string): ParsedEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'body is not JSON' };
  }
  const result = changeEventSchema.safeParse(json);
  if (result.success) return { ok: true, event: result.data };
  const problem = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, problem };
}
