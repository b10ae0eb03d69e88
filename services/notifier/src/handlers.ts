import type { notifier } from '@filesync/contracts';
import { invalidArgument, type Handlers } from '@filesync/server-kit';
import type { DeliveryLedger } from './domain/ports';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

export interface NotifierDependencies {
  readonly ledger: DeliveryLedger;
}

export function createHandlers({
  ledger,
}: NotifierDependencies): Handlers<typeof notifier.NotifierServiceService> {
  return {
    async listDeliveries(request, context) {
      const limit = request.limit === 0 ? DEFAULT_LIMIT : request.limit;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw invalidArgument(`limit must be between 1 and ${MAX_LIMIT} (0 means ${DEFAULT_LIMIT})`);
      }
      const { userId } = await context.principal();
      const deliveries = await ledger.listForUser(userId, limit, context.signal);
      return {
        deliveries: deliveries.map(({ eventId, email, subject, paths, sentAtMs, messageId }) => ({
          eventId,
          email,
          subject,
          paths: [...paths],
          sentAtMs,
          messageId,
        })),
      };
    },
  };
}
