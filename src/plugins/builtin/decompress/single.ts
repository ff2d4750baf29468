/**
 * Single-stream compressors (gzip, bzip2, xz): one member, the decompressed stream. A tar
 * inside comes out as a `.tar` member and is unpacked when that payload is scanned.
 */
import { PassThrough, Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import unbzip2 from 'unbzip2-stream';
import { XzReadableStream } from 'xz-decompress';
import type { Payload } from '../../api';
import { collect } from './budget';
import { baseName } from './names';
import type { ExtractionContext, Extractor } from './types';

export const extractGzip: Extractor = (payload, context) =>
  extractSingle(payload, context, createGunzip(), '.gz');

export const extractBzip2: Extractor = (payload, context) =>
  extractSingle(payload, context, unbzip2(), '.bz2');

export const extractXz: Extractor = async (payload, context) => {
  const web = Readable.toWeb(payload.stream()) as ReadableStream<Uint8Array>;
  const decompressed = Readable.fromWeb(
    new XzReadableStream(web) as import('node:stream/web').ReadableStream<Uint8Array>,
  );
  await extractFrom(decompressed, payload, context, '.xz');
};

async function extractSingle(
  payload: Payload,
  context: ExtractionContext,
  decompressor: Transform,
  suffix: string,
): Promise<void> {
  // unbzip2-stream is a classic stream (no async iteration, errors not forwarded by pipe):
  // a PassThrough gives one modern stream that fails when any stage fails.
  const source = payload.stream();
  const output = new PassThrough();
  for (const stage of [source, decompressor]) stage.on('error', (error) => output.destroy(error));
  source.pipe(decompressor).pipe(output);

  try {
    await extractFrom(output, payload, context, suffix);
  } finally {
    source.unpipe();
    source.destroy();
  }
}

async function extractFrom(
  decompressed: Readable,
  payload: Payload,
  context: ExtractionContext,
  suffix: string,
): Promise<void> {
  context.budget.admitMember();
  const meter = context.budget.member();

  try {
    const content = await collect(decompressed, meter);
    meter.commit();
    context.add({ filename: memberName(payload, suffix), content });
  } finally {
    decompressed.destroy();
  }
}

/** The archive's own name without its suffix (`report.csv.gz` -> `report.csv`). */
function memberName(payload: Payload, suffix: string): string {
  const extra = payload.results.payload_meta.extra_data;
  const archiveName = typeof extra.filename === 'string' ? baseName(extra.filename) : '';
  if (archiveName.toLowerCase().endsWith(suffix) && archiveName.length > suffix.length) {
    return archiveName.slice(0, -suffix.length);
  }
  return archiveName ? `${archiveName}.decompressed` : 'decompressed';
}
