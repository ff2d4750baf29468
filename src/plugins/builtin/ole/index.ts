/**
 * `ole` worker: extracts the streams of an OLE compound file (legacy Office documents, MSI,
 * Outlook .msg, thumbs.db) as payloads, each with its path in the storage tree.
 */
import * as CFB from 'cfb';
import { z } from 'zod';
import { badInput, definePlugin, type ExtractedPayload } from '../../api';

const OLE_SIGNATURE = Buffer.from('d0cf11e0a1b11ae1', 'hex');
const STREAM = 2;
const ROOT_PREFIX = /^[^/]*\//;

export const oleOptions = z.object({
  /** Most streams extracted; the rest are listed as skipped. */
  max_streams: z.number().int().positive().default(1000),
  /** Extract zero-length streams too. */
  include_empty: z.boolean().default(false),
  /** Larger payloads are refused rather than read into memory. */
  max_bytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024 * 1024),
});

/** One stream of the compound file. */
export interface OleStream {
  /** Path in the storage tree, storages separated by '/', without the root entry. */
  path: string;
  size: number;
}

/** The `ole` worker's result. */
export interface OleResults {
  /** CLSID of the root storage (identifies the application), lowercase hex. */
  root_clsid: string | null;
  streams: OleStream[];
  /** Streams not extracted because max_streams was reached. */
  skipped: number;
}

function readContainer(buf: Buffer): CFB.CFB$Container {
  if (buf.length < OLE_SIGNATURE.length || !buf.subarray(0, 8).equals(OLE_SIGNATURE)) {
    throw badInput('not an OLE compound file: signature missing');
  }
  try {
    return CFB.read(buf, { type: 'buffer' });
  } catch (err) {
    throw badInput(`not a readable OLE compound file: ${(err as Error).message}`, err);
  }
}

export default definePlugin({
  name: 'ole',
  version: '1.0.0',
  description: 'Extracts the streams of OLE compound files',
  kinds: ['worker'],
  options: oleOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        if (payload.size > options.max_bytes) {
          throw badInput(
            `payload of ${payload.size} bytes exceeds ole max_bytes ${options.max_bytes}`,
          );
        }
        const container = readContainer(await payload.bytes({ maxBytes: options.max_bytes }));

        const streams: OleStream[] = [];
        const extracted: ExtractedPayload[] = [];
        let skipped = 0;
        container.FileIndex.forEach((entry, i) => {
          const content = entry.content as Uint8Array | undefined;
          if (entry.type !== STREAM || !content || (content.length === 0 && !options.include_empty))
            return;
          if (streams.length === options.max_streams) {
            skipped++;
            return;
          }
          const path = container.FullPaths[i].replace(ROOT_PREFIX, '');
          streams.push({ path, size: content.length });
          extracted.push({
            content: Buffer.from(content),
            payload_meta: { extra_data: { filename: entry.name, stream_path: path } },
          });
        });

        const rootClsid = container.FileIndex[0]?.clsid;
        const results: OleResults = {
          root_clsid: rootClsid && !/^0+$/.test(rootClsid) ? rootClsid.toLowerCase() : null,
          streams,
          skipped,
        };
        const errors = skipped
          ? [`${skipped} streams past max_streams (${options.max_streams}) not extracted`]
          : [];
        return { results, extracted, errors };
      },
    },
  }),
});
