import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logging/logger.js';

const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Writes one of the Temporal SDK's log entries as a line of our JSON logger. */
export function writeTemporalLogEntry(logger: Logger, entry: LogEntry): void {
  logger[levels[entry.level]]({ ...entry.meta, source: 'temporal-sdk' }, entry.message);
}

/** Sends the Temporal SDK's own log lines through our JSON logger. */
export function installTemporalLogging(logger: Logger): void {
  Runtime.install({ logger: new DefaultLogger('INFO', (entry) => writeTemporalLogEntry(logger, entry)) });
}
