/**
 * `pecarve` worker: carves PE files embedded in a payload (droppers, memory dumps, documents
 * with an executable inside) and extracts each as a payload.
 *
 * A candidate is an 'MZ' whose e_lfanew leads to 'PE\0\0' and whose headers and section
 * table are sane (see parsePeHeaders). Its length is the end of its furthest section's raw
 * data; an overlay after that is not included. An image that runs past the end of the payload
 * is carved up to the end and flagged `truncated`.
 */
import { z } from 'zod';
import { badInput, definePlugin, type ExtractedPayload } from '../../api';
import { imageLength, parsePeHeaders, PeFormatError } from '../peinfo/pe-format';

export const pecarveOptions = z.object({
  /** Do not extract the payload itself when it is a PE at offset 0 (only what it embeds). */
  skip_self: z.boolean().default(true),
  /** Most PE files extracted from one payload. */
  max_carved: z.number().int().positive().default(100),
  /** Candidates shorter than this (headers included) are ignored as noise. */
  min_size: z.number().int().nonnegative().default(512),
  /** Larger payloads are refused rather than read into memory. */
  max_bytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024 * 1024),
});

/** One carved PE, as listed in results and in the extracted payload's extra_data. */
export interface CarvedPe {
  offset: number;
  size: number;
  /** The image claims more bytes than the payload has left. */
  truncated: boolean;
}

/** The `pecarve` worker's result. */
export interface PecarveResults {
  carved: CarvedPe[];
  /** More PE files were found than max_carved allowed. */
  limit_reached: boolean;
}

/** Finds embedded PE images; returns them in file order, at most `max` of them. */
export function findPeImages(
  buf: Buffer,
  options: z.output<typeof pecarveOptions>,
): PecarveResults {
  const carved: CarvedPe[] = [];
  for (let at = buf.indexOf('MZ'); at !== -1; at = buf.indexOf('MZ', at + 1)) {
    if (at === 0 && options.skip_self) continue;

    const size = candidateSize(buf, at);
    if (size === null || size < options.min_size) continue;
    if (carved.length === options.max_carved) return { carved, limit_reached: true };
    carved.push({
      offset: at,
      size: Math.min(size, buf.length - at),
      truncated: at + size > buf.length,
    });
  }
  return { carved, limit_reached: false };
}

function candidateSize(buf: Buffer, at: number): number | null {
  try {
    return imageLength(parsePeHeaders(buf, at));
  } catch (err) {
    if (err instanceof PeFormatError) return null;
    throw err;
  }
}

export default definePlugin({
  name: 'pecarve',
  version: '1.0.0',
  description: 'Carves embedded PE files out of a payload',
  kinds: ['worker'],
  options: pecarveOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        if (payload.size > options.max_bytes) {
          throw badInput(
            `payload of ${payload.size} bytes exceeds pecarve max_bytes ${options.max_bytes}`,
          );
        }
        const buf = await payload.bytes({ maxBytes: options.max_bytes });

        const results = findPeImages(buf, options);

        const extracted: ExtractedPayload[] = results.carved.map((pe) => ({
          content: buf.subarray(pe.offset, pe.offset + pe.size),
          payload_meta: { extra_data: { ...pe } },
        }));
        const errors = results.limit_reached
          ? [`more than max_carved (${options.max_carved}) PE files; the rest were not extracted`]
          : [];
        return { results, extracted, errors };
      },
    },
  }),
});
