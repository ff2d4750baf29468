/**
 * Content type detection with libmagic (the `file` command's engine), compiled to WASM and
 * shipped with its magic database by the `wasmagic` package: no native build, no network.
 *
 * Shared by the `mimetype` worker and the `filetype` dispatcher so both agree on a type.
 */
import { WASMagic, WASMagicFlags } from 'wasmagic';
import type { Payload } from '../../api';

/** What libmagic says about some content. */
export interface Detection {
  /** MIME type, e.g. `message/rfc822`, `application/zip`. */
  mimetype: string;
  /** `file`-style human description, e.g. `Zip archive data, at least v2.0 to extract`. */
  description: string;
}

/** How much of a payload libmagic sees by default; libmagic's own default read is 1 MiB. */
export const DEFAULT_DETECT_BYTES = 1024 * 1024;

interface Magics {
  mime: WASMagic;
  description: WASMagic;
}

let magics: Promise<Magics> | undefined;

// Each instance loads the magic database once (tens of ms); one per process is enough.
function loadMagics(): Promise<Magics> {
  magics ??= Promise.all([
    WASMagic.create({ flags: WASMagicFlags.MIME_TYPE }),
    WASMagic.create({ flags: WASMagicFlags.NONE }),
  ]).then(([mime, description]) => ({ mime, description }));
  return magics;
}

/** Detects the type of a buffer (give it the head of the content, not necessarily all). */
export async function detectBuffer(content: Uint8Array): Promise<Detection> {
  const { mime, description } = await loadMagics();
  return { mimetype: mime.detect(content), description: description.detect(content) };
}

/** Detects a payload's type from its first `maxBytes` bytes, read as a stream. */
export async function detectPayload(
  payload: Payload,
  maxBytes = DEFAULT_DETECT_BYTES,
): Promise<Detection> {
  return detectBuffer(await readHead(payload, maxBytes));
}

/** Reads at most `maxBytes` from the start of a payload without reading the rest. */
export async function readHead(payload: Payload, maxBytes: number): Promise<Buffer> {
  const stream = payload.stream();
  const chunks: Buffer[] = [];
  let length = 0;

  try {
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      chunks.push(bytes.subarray(0, maxBytes - length));
      length += Math.min(bytes.length, maxBytes - length);
      if (length >= maxBytes) break;
    }
  } finally {
    stream.destroy();
  }

  return Buffer.concat(chunks, length);
}
