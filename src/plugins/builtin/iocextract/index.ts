/**
 * `iocextract` worker: indicators of compromise found in the payload's text.
 *
 * Result: indicators grouped by type, de-duplicated, e.g.
 * `{ "url": ["http://evil.example.com/x"], "domain": ["evil.example.com"], "ipv4": [...] }`.
 * Types with nothing found are left out. Defanged forms (`hxxp`, `[.]`, `(.)`, `[at]`,
 * `[:]`) are refanged first. Only the first `max_bytes` of a payload are scanned.
 */
import { z } from 'zod';
import { definePlugin } from '../../api';
import { readHead } from '../mimetype/detect';
import { extractIocs, IOC_TYPES, type Iocs } from './extract';

export const iocextractOptions = z.object({
  /** Bytes from the start of the payload that are scanned; the rest is ignored. */
  max_bytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /** Indicator types to look for. */
  types: z
    .array(z.enum(IOC_TYPES))
    .min(1)
    .default([...IOC_TYPES]),
  /** Most indicators kept per type. */
  max_per_type: z.number().int().positive().default(10_000),
});

/** The `iocextract` worker's result. */
export type IocextractResults = Iocs;

export default definePlugin({
  name: 'iocextract',
  version: '1.0.0',
  description: 'Extracts URLs, domains, IPs, e-mail addresses and hashes from text',
  kinds: ['worker'],
  options: iocextractOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        // latin1 keeps one character per byte, so binary content cannot break decoding.
        const text = (await readHead(payload, options.max_bytes)).toString('latin1');

        const results: IocextractResults = extractIocs(text, options.types, options.max_per_type);
        return { results };
      },
    },
  }),
});
