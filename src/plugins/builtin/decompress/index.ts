/**
 * `decompress` worker: unpacks zip, tar, gzip, bzip2, xz and 7z payloads into extracted
 * payloads, in memory, within configured limits.
 *
 * Each member becomes an extracted payload whose `payload_meta.extra_data.filename` is its
 * sanitized name. Result:
 * `{ format, members: [{ filename, size, password? }] }`. When a limit is hit, extraction
 * stops, what was extracted so far is returned, and `errors` names the limit
 * (`limit max_total_bytes (...) reached`). Nesting depth is the framework's `max_recursion`.
 */
import { z } from 'zod';
import { badInput, definePlugin, type Payload, type WorkerResult } from '../../api';
import { readHead } from '../mimetype/detect';
import { ExtractionBudget, LimitReached } from './budget';
import { extractSevenZip } from './sevenzip';
import { extractBzip2, extractGzip, extractXz } from './single';
import { SNIFF_BYTES, sniffFormat } from './sniff';
import { extractTar } from './tar';
import { ARCHIVE_FORMATS, type ArchiveFormat, type ExtractedMember, type Extractor } from './types';
import { extractZip } from './zip';

const MIB = 1024 * 1024;

export const decompressOptions = z.object({
  /** Passwords tried, in order, on encrypted zip and 7z members. */
  passwords: z.array(z.string()).default(['infected', 'password']),
  /** Sum of the sizes of all extracted members. */
  max_total_bytes: z
    .number()
    .int()
    .positive()
    .default(256 * MIB),
  /** Members extracted from one archive. */
  max_members: z.number().int().positive().default(10_000),
  /** Extracted bytes per archive byte, checked once output passes `ratio_grace_bytes`. */
  max_ratio: z.number().positive().default(200),
  ratio_grace_bytes: z
    .number()
    .int()
    .nonnegative()
    .default(8 * MIB),
  /** Formats this worker extracts; others are refused as bad input. */
  formats: z.array(z.enum(ARCHIVE_FORMATS)).default([...ARCHIVE_FORMATS]),
});
export type DecompressOptions = z.output<typeof decompressOptions>;

/** One extracted member, as listed in the result. */
export interface DecompressMember {
  filename: string;
  size: number;
  /** The password that opened it, when it was encrypted. */
  password?: string;
}

/** The `decompress` worker's result. */
export interface DecompressResults {
  format: ArchiveFormat;
  members: DecompressMember[];
}

const EXTRACTORS: Record<ArchiveFormat, Extractor> = {
  zip: extractZip,
  tar: extractTar,
  gzip: extractGzip,
  bzip2: extractBzip2,
  xz: extractXz,
  '7z': extractSevenZip,
};

/** Extracts one archive payload; exported for reuse by tests and other plugins. */
export async function decompress(
  payload: Payload,
  options: DecompressOptions,
): Promise<WorkerResult> {
  const format = sniffFormat(await readHead(payload, SNIFF_BYTES));
  if (!format || !options.formats.includes(format)) {
    throw badInput(`not an archive this worker extracts (${options.formats.join(', ')})`);
  }

  const members: ExtractedMember[] = [];
  const errors: string[] = [];
  const budget = new ExtractionBudget(options, payload.size);
  const context = {
    budget,
    passwords: options.passwords,
    add: (member: ExtractedMember) => members.push(member),
    error: (message: string) => errors.push(message),
  };

  try {
    await EXTRACTORS[format](payload, context);
  } catch (error) {
    if (error instanceof LimitReached) {
      errors.push(error.message);
    } else if (members.length === 0) {
      throw badInput(`${format}: cannot extract: ${(error as Error).message}`, error);
    } else {
      errors.push(`${format}: extraction stopped: ${(error as Error).message}`);
    }
  }

  return toWorkerResult(format, members, errors);
}

function toWorkerResult(
  format: ArchiveFormat,
  members: ExtractedMember[],
  errors: string[],
): WorkerResult {
  const results: DecompressResults = {
    format,
    members: members.map(({ filename, content, password }) => ({
      filename,
      size: content.length,
      ...(password === undefined ? {} : { password }),
    })),
  };
  const extracted = members.map((member) => ({
    content: member.content,
    payload_meta: { extra_data: { filename: member.filename } },
  }));
  return { results, extracted, ...(errors.length > 0 ? { errors } : {}) };
}

export default definePlugin({
  name: 'decompress',
  version: '1.0.0',
  description: 'Extracts members of zip, tar, gzip, bzip2, xz and 7z archives within limits',
  kinds: ['worker'],
  options: decompressOptions,
  create: (options) => ({
    worker: { scan: (payload) => decompress(payload, options) },
  }),
});
