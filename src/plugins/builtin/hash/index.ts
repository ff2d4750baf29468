/**
 * `hash` worker: message digests of the payload, computed in one streaming pass.
 *
 * Result: `{ md5, sha1, sha256, sha512 }` (lowercase hex), restricted to `algorithms`.
 */
import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';
import { definePlugin } from '../../api';

export const HASH_ALGORITHMS = ['md5', 'sha1', 'sha256', 'sha512'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

export const hashOptions = z.object({
  algorithms: z
    .array(z.enum(HASH_ALGORITHMS))
    .min(1)
    .default([...HASH_ALGORITHMS]),
});

/** The `hash` worker's result: one lowercase hex digest per requested algorithm. */
export type HashResults = Partial<Record<HashAlgorithm, string>>;

export default definePlugin({
  name: 'hash',
  version: '1.0.0',
  description: 'Computes md5, sha1, sha256 and sha512 of a payload in one streaming pass',
  kinds: ['worker'],
  options: hashOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        const algorithms = [...new Set(options.algorithms)];
        const hashes = new Map<HashAlgorithm, Hash>(algorithms.map((a) => [a, createHash(a)]));

        for await (const chunk of payload.stream()) {
          for (const hash of hashes.values()) hash.update(chunk as Buffer);
        }

        const results: HashResults = {};
        for (const [algorithm, hash] of hashes) results[algorithm] = hash.digest('hex');
        return { results };
      },
    },
  }),
});
