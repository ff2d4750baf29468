/**
 * Hashing content on its way into a store: every implementation learns a stream's
 * SHA-256 and size only as the bytes go through, never holding them whole.
 */
import { createHash } from 'node:crypto';
import type { BlobRef } from '../model/schemas';

export interface HashingStage {
  /** A pipeline stage that passes bytes through, hashing and counting them. */
  measure(chunks: AsyncIterable<unknown>): AsyncGenerator<Buffer>;
  /** The content's ref, once the stage has seen the whole stream. */
  ref(): BlobRef;
}

export function hashingStage(): HashingStage {
  const hash = createHash('sha256');
  let size = 0;
  return {
    async *measure(chunks) {
      for await (const chunk of chunks) {
        const bytes = chunkToBuffer(chunk);
        hash.update(bytes);
        size += bytes.byteLength;
        yield bytes;
      }
    },
    ref: () => ({ sha256: hash.digest('hex'), size }),
  };
}

function chunkToBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`blob stream yielded a ${typeof chunk} chunk; expected bytes`);
}
