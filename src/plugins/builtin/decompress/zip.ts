/** Zip members via zip.js, with ZipCrypto and AES passwords tried from the configured list. */
import {
  configure,
  ERR_ENCRYPTED,
  ERR_INVALID_COMPRESSED_DATA,
  ERR_INVALID_CRC32,
  ERR_INVALID_PASSWORD,
  ERR_INVALID_UNCOMPRESSED_SIZE,
  Uint8ArrayReader,
  ZipReader,
  type FileEntry,
} from '@zip.js/zip.js';
import { LimitReached, type MemberMeter } from './budget';
import { sanitizeMemberName } from './names';
import type { ExtractionContext, Extractor } from './types';

// Web workers would need a worker script URL; in an activity the codec runs inline.
configure({ useWebWorkers: false });

// ZipCrypto checks a password on one byte, so 1 wrong password in 256 passes that check and
// then fails as bad data; with CRC checking on, these errors all mean "try the next one".
const WRONG_PASSWORD_ERRORS = new Set([
  ERR_INVALID_PASSWORD,
  ERR_ENCRYPTED,
  ERR_INVALID_CRC32,
  ERR_INVALID_COMPRESSED_DATA,
  ERR_INVALID_UNCOMPRESSED_SIZE,
]);

export const extractZip: Extractor = async (payload, context) => {
  // TODO(decompress): zip needs random access, so the archive is read whole (bounded by
  // payload.bytes()'s 256 MiB default); a blob-store range reader would lift that.
  // Members are never written to disk and their names go through sanitizeMemberName, so
  // zip.js's own refusal of '../' names would only hide a hostile archive's content.
  const reader = new ZipReader(new Uint8ArrayReader(await payload.bytes()), {
    filenameValidation: 'tolerant',
  });

  try {
    for await (const entry of reader.getEntriesGenerator()) {
      if (entry.directory) continue;
      context.budget.admitMember();
      await extractEntry(entry, context);
    }
  } finally {
    await reader.close();
  }
};

async function extractEntry(entry: FileEntry, context: ExtractionContext): Promise<void> {
  const filename = sanitizeMemberName(entry.filename);
  context.budget.checkDeclared(entry.uncompressedSize);

  if (!entry.encrypted) {
    const meter = context.budget.member();
    const content = await tryRead(entry, meter, undefined, filename, context);
    if (content) commit(meter, context, { filename, content });
    return;
  }

  if (context.passwords.length === 0) {
    context.error(`${filename}: member is encrypted and no passwords are configured`);
    return;
  }
  for (const password of context.passwords) {
    const meter = context.budget.member();
    const content = await tryRead(entry, meter, password, filename, context);
    if (content) return commit(meter, context, { filename, content, password });
  }
  context.error(`${filename}: none of the ${context.passwords.length} passwords opened it`);
}

function commit(
  meter: MemberMeter,
  context: ExtractionContext,
  member: { filename: string; content: Buffer; password?: string },
): void {
  meter.commit();
  context.add(member);
}

/** The member's content; undefined after a wrong password or a member-level error. */
async function tryRead(
  entry: FileEntry,
  meter: MemberMeter,
  password: string | undefined,
  filename: string,
  context: ExtractionContext,
): Promise<Buffer | undefined> {
  try {
    return await readEntry(entry, meter, password);
  } catch (error) {
    if (error instanceof LimitReached) throw error;
    if (password !== undefined && WRONG_PASSWORD_ERRORS.has((error as Error).message)) {
      return undefined;
    }
    context.error(`${filename}: ${(error as Error).message}`);
    return undefined;
  }
}

async function readEntry(
  entry: FileEntry,
  meter: MemberMeter,
  password: string | undefined,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let limit: LimitReached | undefined;
  const sink = new WritableStream<Uint8Array>({
    write(chunk) {
      try {
        meter.add(chunk.length);
      } catch (error) {
        limit = error as LimitReached;
        throw error;
      }
      parts.push(Buffer.from(chunk));
    },
  });

  try {
    await entry.getData(sink, { password, checkCrc32: true });
  } catch (error) {
    // zip.js may wrap what the sink threw; the limit is what matters.
    throw limit ?? error;
  }
  return Buffer.concat(parts);
}
