/** Archive format recognition from the first bytes of a payload. */
import type { ArchiveFormat } from './types';

/** Bytes of the payload head that {@link sniffFormat} needs (a tar header is 512). */
export const SNIFF_BYTES = 512;

const SIGNATURES: Array<[ArchiveFormat, Buffer, number]> = [
  ['zip', Buffer.from('PK\x03\x04', 'latin1'), 0],
  // An empty zip is only its end-of-central-directory record.
  ['zip', Buffer.from('PK\x05\x06', 'latin1'), 0],
  ['gzip', Buffer.from([0x1f, 0x8b]), 0],
  ['bzip2', Buffer.from('BZh', 'latin1'), 0],
  ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 0],
  ['7z', Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), 0],
  ['tar', Buffer.from('ustar', 'latin1'), 257],
];

/** The archive format of some content, or undefined when it is none that we extract. */
export function sniffFormat(head: Buffer): ArchiveFormat | undefined {
  for (const [format, signature, offset] of SIGNATURES) {
    const slice = head.subarray(offset, offset + signature.length);
    if (slice.equals(signature)) return format;
  }
  return isV7Tar(head) ? 'tar' : undefined;
}

// Pre-POSIX tar headers carry no magic; their header checksum is the only tell.
function isV7Tar(head: Buffer): boolean {
  if (head.length < 512) return false;

  const recorded = parseInt(head.subarray(148, 156).toString('latin1').replace(/\0.*$/s, ''), 8);
  if (!Number.isFinite(recorded) || recorded === 0) return false;

  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i];
  return sum === recorded;
}
