/**
 * `entropy` worker: Shannon entropy of the payload's bytes, in bits per byte (0 to 8).
 *
 * Result: `{ entropy }`. Computed from a byte histogram filled in one streaming pass, so a
 * multi-GB payload costs 256 counters of memory.
 */
import { z } from 'zod';
import { definePlugin } from '../../api';

export const entropyOptions = z.object({
  /** Decimal places kept in the result; `null` keeps full precision. */
  precision: z.number().int().min(0).max(15).nullable().default(null),
});

/** The `entropy` worker's result. */
export interface EntropyResults {
  entropy: number;
}

/** Shannon entropy (bits per byte) of a byte histogram holding `total` bytes. */
export function shannonEntropy(histogram: ArrayLike<number>, total: number): number {
  if (total === 0) return 0;

  let entropy = 0;
  for (let i = 0; i < histogram.length; i++) {
    const count = histogram[i];
    if (count === 0) continue;
    const p = count / total;
    entropy -= p * Math.log2(p);
  }
  // -0 and tiny negative rounding errors both mean "no uncertainty".
  return Math.max(0, entropy);
}

export default definePlugin({
  name: 'entropy',
  version: '1.0.0',
  description: 'Computes the Shannon entropy of a payload in one streaming pass',
  kinds: ['worker'],
  options: entropyOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        const histogram = new Float64Array(256);
        let total = 0;

        for await (const chunk of payload.stream()) {
          const bytes = chunk as Buffer;
          for (let i = 0; i < bytes.length; i++) histogram[bytes[i]]++;
          total += bytes.length;
        }

        const entropy = shannonEntropy(histogram, total);
        const rounded = options.precision === null ? entropy : round(entropy, options.precision);
        const results: EntropyResults = { entropy: rounded };
        return { results };
      },
    },
  }),
});

function round(value: number, places: number): number {
  const factor = 10 ** places;
  return Math.round(value * factor) / factor;
}
