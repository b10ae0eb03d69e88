import { ConfigError } from '@filesync/server-kit';
import { loadNotifierConfig } from './config';

const base = {
  AWS_REGION: 'us-east-1',
  FILESYNC_CHANGE_EVENTS_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/filesync-change-events',
  FILESYNC_AUTH_ADDRESS: '127.0.0.1:50051',
};

describe('loadNotifierConfig', () => {
  it('applies the defaults', () => {
    expect(loadNotifierConfig(base)).toMatchObject({
      port: 50054,
      metricsPort: 9464,
      table: 'filesync-notifier',
      mailFrom: 'notifications@filesync.local',
      pollWaitSeconds: 10,
    });
  });

  it('names every missing or wrong variable', () => {
    const load = () => loadNotifierConfig({ AWS_REGION: 'us-east-1', FILESYNC_POLL_WAIT_SECONDS: '30' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/FILESYNC_CHANGE_EVENTS_QUEUE_URL is required/);
    expect(load).toThrow(/FILESYNC_AUTH_ADDRESS is required/);
    expect(load).toThrow(/FILESYNC_POLL_WAIT_SECONDS is invalid/);
  });
});
