/**
 * `xyz` worker: a zip's directory, read without extracting anything.
 *
 * Result:
 * `{ comment, entries: [{ filename, directory, size, compressed_size, method, crc32,
 *   encrypted, last_modified }], truncated }`. `method` is the zip method name (`stored`,
 * `deflate`...) or `method-<n>`; `crc32` is 8 hex digits. Lists at most `max_entries`.
 */
import { configure, Uint8ArrayReader, ZipReader, type Entry } from '@zip.js/zip.js';
import { z } from 'zod';
import { badInput, definePlugin } from '../../api';

configure({ useWebWorkers: false });

export const xyzOptions = z.object({
  max_entries: z.number().int().positive().default(10_000),
});

/** One member as `xyz` lists it. */
export interface XyzEntry {
  filename: string;
  directory: boolean;
  size: number;
  compressed_size: number;
  method: string;
  crc32: string;
  encrypted: boolean;
  last_modified: string | null;
}

/** The `xyz` worker's result. */
export interface XyzResults {
  comment: string;
  entries: XyzEntry[];
  /** True when the zip has more than `max_entries` members. */
  truncated: boolean;
}

const METHODS: Record<number, string> = {
  0: 'stored',
  8: 'deflate',
  9: 'deflate64',
  12: 'bzip2',
  14: 'lzma',
  93: 'zstd',
  95: 'xz',
  99: 'aes',
};

function describe(entry: Entry): XyzEntry {
  const method = entry.compressionMethod;
  const modified = entry.lastModDate;
  return {
    filename: entry.filename,
    directory: entry.directory,
    size: entry.uncompressedSize,
    compressed_size: entry.compressedSize,
    method: METHODS[method] ?? `method-${method}`,
    crc32: (entry.signature ?? 0).toString(16).padStart(8, '0'),
    encrypted: entry.encrypted,
    last_modified: modified && !Number.isNaN(modified.getTime()) ? modified.toISOString() : null,
  };
}

export default definePlugin({
  name: 'xyz',
  version: '1.0.0',
  description: 'Lists zip members and their metadata without extracting them',
  kinds: ['worker'],
  options: xyzOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        const reader = new ZipReader(new Uint8ArrayReader(await payload.bytes()));
        const entries: XyzEntry[] = [];
        let truncated = false;

        try {
          for await (const entry of reader.getEntriesGenerator()) {
            if (entries.length >= options.max_entries) {
              truncated = true;
              break;
            }
            entries.push(describe(entry));
          }
          const comment = Buffer.from(reader.comment ?? new Uint8Array()).toString('utf8');
          const results: XyzResults = { comment, entries, truncated };
          return { results };
        } catch (error) {
          throw badInput(`not a readable zip: ${(error as Error).message}`, error);
        } finally {
          await reader.close();
        }
      },
    },
  }),
});
