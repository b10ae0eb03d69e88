import { Counter, Gauge, type Registry } from 'prom-client';
import type { FanoutObserver } from './adapters/sns-sqs-advance-fanout';
import type { WatchHub } from './domain/watch';

/** Push metrics: open watch streams, wake-ups heard from the fan-out, publishes that failed. */
export function watchMetrics(
  registry: Registry,
  hub: WatchHub,
): FanoutObserver & { woke(watchers: number): void } {
  new Gauge({
    name: 'metadata_watch_streams_open',
    help: 'WatchChanges streams open on this task.',
    registers: [registry],
    collect() {
      this.set(hub.open);
    },
  });
  const received = new Counter({
    name: 'metadata_watch_wakeups_received_total',
    help: 'Namespace advances heard from the fan-out queue (every task commit, this one included).',
    registers: [registry],
  });
  const woken = new Counter({
    name: 'metadata_watch_streams_woken_total',
    help: 'Watch streams woken by advances heard from the fan-out.',
    registers: [registry],
  });
  const publishFailures = new Counter({
    name: 'metadata_watch_publish_failures_total',
    help: 'Namespace advances that could not be published to the fan-out topic (commits stood).',
    registers: [registry],
  });
  return {
    received: (count) => received.inc(count),
    publishFailed: () => publishFailures.inc(),
    woke: (watchers) => woken.inc(watchers),
  };
}
