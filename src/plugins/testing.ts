/**
 * Helpers for testing plugins outside a scan: a payload over an in-memory buffer and a
 * request view. Plugin unit tests use these; the scan workflow builds the real ones.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { payloadResultsSchema, requestMetaSchema } from '../model/schemas';
import type { JsonObject, PayloadResults, RequestMeta } from '../model/schemas';
import type { Payload, PayloadContent, RequestView } from './api';

export interface TestPayloadOptions {
  payload_id?: string;
  results?: Partial<PayloadResults>;
  dispatch_meta?: Record<string, JsonObject>;
}

export function payloadFromBuffer(
  content: Buffer | string,
  options: TestPayloadOptions = {},
): Payload {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  const payloadId = options.payload_id ?? 'test-payload';
  const results = payloadResultsSchema.parse({
    payload_id: payloadId,
    size: bytes.length,
    ...options.results,
  });
  let tempPath: string | undefined;

  return {
    payload_id: payloadId,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    results,
    dispatch_meta: options.dispatch_meta ?? {},
    async bytes() {
      return bytes;
    },
    stream() {
      return Readable.from([bytes]);
    },
    async filePath() {
      if (!tempPath) {
        const dir = await mkdtemp(join(tmpdir(), 'stoq-test-payload-'));
        tempPath = join(dir, 'payload');
        await writeFile(tempPath, bytes);
      }
      return tempPath;
    },
  };
}

export function testRequest(
  options: {
    scan_id?: string;
    request_meta?: Partial<RequestMeta>;
    results?: PayloadResults[];
  } = {},
): RequestView {
  return {
    scan_id: options.scan_id ?? 'test-scan',
    request_meta: requestMetaSchema.parse(options.request_meta ?? {}),
    results: async () => options.results ?? [],
  };
}

/** Reads extracted content (buffer or stream) into a buffer, for assertions. */
export async function contentToBuffer(content: PayloadContent): Promise<Buffer> {
  if (Buffer.isBuffer(content)) return content;
  if (content instanceof Uint8Array) return Buffer.from(content);
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
