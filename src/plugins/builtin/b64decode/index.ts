/**
 * `b64decode` worker: decodes a base64 payload into one extracted payload.
 *
 * Whitespace and line breaks anywhere are ignored; both the standard and the URL-safe
 * alphabets are accepted; padding is optional. Anything else is refused as bad input.
 * Result: `{ size }`, the decoded length.
 */
import { z } from 'zod';
import { badInput, definePlugin } from '../../api';

export const b64decodeOptions = z.object({
  /** Largest payload read whole for decoding. */
  max_bytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
});

/** The `b64decode` worker's result. */
export interface B64decodeResults {
  size: number;
}

const BASE64 = /^(?:[A-Za-z0-9+/]|[A-Za-z0-9_-])*={0,2}$/;

/** Decodes base64 text (whitespace ignored); throws bad input when it is not base64. */
export function decodeBase64(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  const unpadded = compact.replace(/=+$/, '');
  if (compact.length === 0 || !BASE64.test(compact) || unpadded.length % 4 === 1) {
    throw badInput('payload is not base64');
  }
  if (/[-_]/.test(unpadded) && /[+/]/.test(unpadded)) {
    throw badInput('payload mixes the standard and URL-safe base64 alphabets');
  }
  return Buffer.from(unpadded, /[-_]/.test(unpadded) ? 'base64url' : 'base64');
}

export default definePlugin({
  name: 'b64decode',
  version: '1.0.0',
  description: 'Decodes base64 content into an extracted payload',
  kinds: ['worker'],
  options: b64decodeOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        const text = (await payload.bytes({ maxBytes: options.max_bytes })).toString('latin1');

        const decoded = decodeBase64(text);

        const results: B64decodeResults = { size: decoded.length };
        return { results, extracted: [{ content: decoded }] };
      },
    },
  }),
});
