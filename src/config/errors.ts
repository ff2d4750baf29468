import type { z } from 'zod';

/**
 * A mistake in configuration, a plugin option or a CLI flag. Always caught before any
 * work starts; the CLI exits with status 2 and prints the message as is.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * One line per issue, naming where the value came from, the key, the value and what was
 * expected: `stoq.cfg [core] max_recursion: expected a number, got "ten"`.
 */
export function describeZodIssues(where: string, error: z.ZodError, input: unknown): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.map(String).join('.');
      const value = valueAt(input, issue.path);
      const got = value === undefined ? '' : `, got ${JSON.stringify(value)}`;
      return `${where}${key ? ` ${key}` : ''}: ${issue.message}${got}`;
    })
    .join('\n');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}
