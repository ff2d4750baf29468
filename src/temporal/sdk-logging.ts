/**
 * Routes the Temporal SDK's own logs (worker state, activity failures, core) into pino,
 * so an operator reads one format and sets one level.
 */
import {
  Runtime,
  type LogLevel,
  type LogMetadata,
  type Logger as SdkLogger,
} from '@temporalio/worker';
import type { Logger } from '../log';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

export function sdkLoggerFor(logger: Logger): SdkLogger {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    // Activity failures are logged by the SDK at WARN on every attempt; stoQ records them
    // as error entries itself, so keep the SDK's copy one level down.
    const target = level === 'WARN' && message === 'Activity failed' ? 'debug' : LEVELS[level];
    sdk[target]({ ...meta }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

/**
 * Installs the SDK runtime with pino logging. The runtime is a process-wide singleton:
 * when something already installed or used it, the existing one is kept.
 */
export function installSdkLogging(logger: Logger): void {
  try {
    Runtime.install({ logger: sdkLoggerFor(logger) });
  } catch (error) {
    if ((error as Error).name !== 'IllegalStateError') throw error;
  }
}
