/**
 * The two families of failure the CLI reports, and how each maps to an exit status:
 * mistakes in what the user asked for (flags, config, plugins, input) exit 2; the
 * infrastructure failing (server unreachable, a scan that did not complete) exits 1.
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../config/errors';
import { PluginLoadError } from '../plugins/registry';

/** Usage mistakes the CLI itself finds: a missing file, empty input. Exit status 2. */
export class UsageError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The server, the network or a scan failed; not the user's input. Exit status 1. */
export class InfraError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfraError';
  }
}

export const EXIT_OK = 0;
export const EXIT_INFRA = 1;
export const EXIT_USAGE = 2;

export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof PluginLoadError) return EXIT_USAGE;
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  return EXIT_INFRA;
}

/** One line for stderr: multi-line messages (several config issues) are joined with "; ". */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('; ');
}
