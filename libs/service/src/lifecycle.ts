// Process lifecycle for services: stop cleanly on SIGINT/SIGTERM, fail loudly (and readably) on bad config.
import { ConfigError } from '@labrun/contracts';
import type { Logger } from './log.js';

/** Run `stop` once on SIGINT or SIGTERM, then exit; a second signal exits at once. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info('stopping', { signal });
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('error while stopping', { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Start a service's `main`; a configuration error prints its message (not a stack trace) and exits 2. */
export function runMain(log: Logger, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      log.error(error.message);
      process.exit(2);
    }
    log.error('failed to start', { error: (error as Error).stack ?? String(error) });
    process.exit(1);
  });
}
