import { runMain, shutdownOnSignals } from '@filesync/server-kit';
import { start } from './service';

runMain(async () => {
  const service = await start(process.env);
  shutdownOnSignals(service, service.logger);
});
