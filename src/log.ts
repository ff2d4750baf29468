/**
 * One logger factory for the whole product: JSON lines by default, readable on a TTY.
 *
 * Field names are fixed so logs can be searched across components: `scan_id`,
 * `payload_id`, `plugin`, `plugin_kind`. Metadata taken from a payload is untrusted and
 * goes under its own key, never spread into the top level of a line.
 */
import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Force pretty (true) or JSON (false); default: pretty when stderr is a TTY. */
  pretty?: boolean;
  /** Where lines go; default stderr, so stdout stays free for scan results. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.STOQ_LOG_LEVEL as LevelWithSilent) ?? 'info';
  const pretty = options.pretty ?? (process.stderr.isTTY === true && !options.destination);

  if (pretty) {
    // pino-pretty is loaded lazily: JSON output (the production default) never needs it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prettyFactory = require('pino-pretty') as typeof import('pino-pretty');
    return pino({ level, base: undefined }, prettyFactory({ destination: 2, colorize: true }));
  }

  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino({ level, base: undefined }, destination);
}

export interface ScanLogFields {
  scan_id?: string;
  payload_id?: string;
  plugin?: string;
  plugin_kind?: string;
}

/** A child logger carrying the scan, payload and plugin the lines are about. */
export function scanLogger(parent: Logger, fields: ScanLogFields): Logger {
  const bindings = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return parent.child(bindings);
}
