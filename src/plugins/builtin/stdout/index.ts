/**
 * `stdout` connector: prints each response as JSON on standard output, one document per
 * scan (`indent: 0` prints one line per scan, handy for `jq` and log shippers).
 */
import { z } from 'zod';
import { definePlugin } from '../../api';

export const stdoutOptions = z.object({
  indent: z.number().int().min(0).max(8).default(2),
});

/** Where output goes; a seam for tests. */
export interface TextSink {
  write(text: string, callback: (error?: Error | null) => void): boolean;
}

/** Writes one JSON document to `sink`, resolving once it has been flushed. */
export function writeJson(sink: TextSink, value: unknown, indent: number): Promise<void> {
  const text = `${JSON.stringify(value, null, indent || undefined)}\n`;
  return new Promise((done, fail) => {
    sink.write(text, (error) => (error ? fail(error) : done()));
  });
}

export default definePlugin({
  name: 'stdout',
  version: '1.0.0',
  description: 'Prints scan responses as JSON on standard output',
  kinds: ['connector'],
  options: stdoutOptions,
  create: (options) => ({
    connector: { save: (response) => writeJson(process.stdout, response, options.indent) },
  }),
});
