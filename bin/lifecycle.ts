import type { Logger } from '../logging/logger.js';

/** Waits for SIGINT or SIGTERM, runs the shutdown once, then exits. */
export function runUntilSignal(logger: Logger, shutdown: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      shutdown()
        .catch((error: unknown) => logger.error({ err: error }, 'shutdown failed'))
        .finally(() => {
          resolve();
          process.exit(0);
        });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
