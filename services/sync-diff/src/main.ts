import { createLogger, runMain, shutdownOnSignals } from '@filesync/server-kit';
import { start } from './service';

runMain(async () => {
  const service = await start(process.env);
  shutdownOnSignals(service, createLogger('sync-diff', process.env.FILESYNC_LOG_LEVEL ?? 'info'));
});
