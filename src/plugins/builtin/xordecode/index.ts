/**
 * `xordecode` worker: XORs the payload with a repeating key into one extracted payload.
 *
 * The key comes from the option `key`, else from any dispatcher's meta `xorkey` for this
 * payload (`payload.dispatch_meta[<dispatcher>].xorkey`), so a dispatcher that spotted an
 * XOR-encoded blob can say how to decode it. A key is a string (its UTF-8 bytes), a number
 * 0-255 (one byte) or an array of byte values. Result: `{ key, size }`, key as hex.
 */
import { Transform } from 'node:stream';
import { z } from 'zod';
import { badInput, definePlugin, type Payload } from '../../api';

const byte = z.number().int().min(0).max(255);
const keySchema = z.union([z.string().min(1), byte, z.array(byte).min(1)]);

export const xordecodeOptions = z.object({
  key: keySchema.optional(),
});

/** The `xordecode` worker's result. */
export interface XordecodeResults {
  key: string;
  size: number;
}

/** A key in any accepted form as bytes. */
export function keyBytes(key: z.infer<typeof keySchema>): Buffer {
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  if (typeof key === 'number') return Buffer.from([key]);
  return Buffer.from(key);
}

function keyFromDispatchMeta(payload: Payload): Buffer | undefined {
  for (const [dispatcher, meta] of Object.entries(payload.dispatch_meta)) {
    if (meta.xorkey === undefined) continue;
    const parsed = keySchema.safeParse(meta.xorkey);
    if (!parsed.success) {
      throw badInput(`dispatch_meta.${dispatcher}.xorkey is not a valid XOR key`);
    }
    return keyBytes(parsed.data);
  }
  return undefined;
}

/** A stream transform XORing with `key`, the key position carried across chunks. */
export function xorStream(key: Buffer): Transform {
  let position = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const out = Buffer.allocUnsafe(chunk.length);
      for (let i = 0; i < chunk.length; i++) {
        out[i] = chunk[i] ^ key[position];
        position = (position + 1) % key.length;
      }
      done(null, out);
    },
  });
}

export default definePlugin({
  name: 'xordecode',
  version: '1.0.0',
  description: 'XOR-decodes a payload with a configured or dispatcher-supplied key',
  kinds: ['worker'],
  options: xordecodeOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        const key =
          options.key === undefined ? keyFromDispatchMeta(payload) : keyBytes(options.key);
        if (!key) throw badInput('no XOR key: set option "key" or dispatcher meta "xorkey"');

        const source = payload.stream();
        const decoded = xorStream(key);
        source.on('error', (error) => decoded.destroy(error));
        source.pipe(decoded);

        const results: XordecodeResults = { key: key.toString('hex'), size: payload.size };
        return { results, extracted: [{ content: decoded }] };
      },
    },
  }),
});
