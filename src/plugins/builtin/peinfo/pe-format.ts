/**
 * A bounds-checked reader of the PE/COFF structures peinfo and pecarve need: headers, section
 * table, import and export directories, resource tree. Every read is checked against the
 * buffer and every count against a limit, so truncated or hostile files end in a
 * {@link PeFormatError} (or a flagged, shortened list), never in an exception from Buffer or a
 * loop that does not end.
 */

/** The file is not a PE, or not one that can be read safely. */
export class PeFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeFormatError';
  }
}

/** More sections than any loader accepts (Windows caps the table at 96). */
export const MAX_SECTIONS = 96;
const MAX_NAME = 512;

export interface PeSection {
  name: string;
  virtual_address: number;
  virtual_size: number;
  raw_offset: number;
  raw_size: number;
  characteristics: number;
}

export interface DataDirectory {
  rva: number;
  size: number;
}

export interface PeHeaders {
  /** Where the image starts in the buffer (its 'MZ'). */
  base: number;
  e_lfanew: number;
  machine: number;
  timestamp: number;
  characteristics: number;
  is64: boolean;
  entry_point: number;
  image_base: number;
  subsystem: number;
  dll_characteristics: number;
  size_of_image: number;
  size_of_headers: number;
  directories: DataDirectory[];
  sections: PeSection[];
}

/** Reads little-endian integers relative to `base`, refusing anything past the buffer. */
export class BoundedReader {
  constructor(
    readonly buf: Buffer,
    readonly base = 0,
  ) {}

  has(offset: number, length: number): boolean {
    const start = this.base + offset;
    return offset >= 0 && length >= 0 && start + length <= this.buf.length;
  }

  u16(offset: number, what: string): number {
    this.need(offset, 2, what);
    return this.buf.readUInt16LE(this.base + offset);
  }

  u32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.buf.readUInt32LE(this.base + offset);
  }

  u64(offset: number, what: string): bigint {
    this.need(offset, 8, what);
    return this.buf.readBigUInt64LE(this.base + offset);
  }

  /** A NUL-terminated latin1 string of at most `max` bytes. */
  cstring(offset: number, what: string, max = MAX_NAME): string {
    this.need(offset, 1, what);
    const start = this.base + offset;
    const limit = Math.min(this.buf.length, start + max);
    const end = this.buf.indexOf(0, start);
    return this.buf.toString('latin1', start, end === -1 || end > limit ? limit : end);
  }

  slice(offset: number, length: number): Buffer {
    const start = this.base + Math.max(0, offset);
    return this.buf.subarray(start, Math.min(this.buf.length, start + Math.max(0, length)));
  }

  private need(offset: number, length: number, what: string): void {
    if (!this.has(offset, length)) {
      throw new PeFormatError(`truncated: ${what} at offset ${offset} is past the end of the file`);
    }
  }
}

/** Parses DOS, COFF and optional headers and the section table of the image at `base`. */
export function parsePeHeaders(buf: Buffer, base = 0): PeHeaders {
  const r = new BoundedReader(buf, base);
  if (r.u16(0, 'DOS signature') !== 0x5a4d) throw new PeFormatError('no MZ signature');

  const lfanew = r.u32(0x3c, 'e_lfanew');
  if (lfanew < 0x40 || !r.has(lfanew, 24)) {
    throw new PeFormatError(`e_lfanew ${lfanew} points outside the file`);
  }
  if (r.u32(lfanew, 'PE signature') !== 0x00004550) throw new PeFormatError('no PE signature');

  const coff = lfanew + 4;
  const sectionCount = r.u16(coff + 2, 'NumberOfSections');
  const optionalSize = r.u16(coff + 16, 'SizeOfOptionalHeader');
  if (sectionCount === 0 || sectionCount > MAX_SECTIONS) {
    throw new PeFormatError(`NumberOfSections ${sectionCount} is outside 1..${MAX_SECTIONS}`);
  }

  const optional = parseOptionalHeader(r, coff + 20, optionalSize);
  return {
    base,
    e_lfanew: lfanew,
    machine: r.u16(coff, 'Machine'),
    timestamp: r.u32(coff + 4, 'TimeDateStamp'),
    characteristics: r.u16(coff + 18, 'Characteristics'),
    ...optional,
    sections: parseSections(r, coff + 20 + optionalSize, sectionCount),
  };
}

function parseOptionalHeader(r: BoundedReader, at: number, size: number) {
  const magic = r.u16(at, 'optional header magic');
  if (magic !== 0x10b && magic !== 0x20b) {
    throw new PeFormatError(`unknown optional header magic 0x${magic.toString(16)}`);
  }
  const is64 = magic === 0x20b;
  const fixedSize = is64 ? 112 : 96;
  if (size < fixedSize) throw new PeFormatError(`SizeOfOptionalHeader ${size} is too small`);

  const dirCountAt = at + (is64 ? 108 : 92);
  // The loader ignores entries past 16, and so do we; a huge count must not drive a loop.
  const dirCount = Math.min(r.u32(dirCountAt, 'NumberOfRvaAndSizes'), 16, (size - fixedSize) / 8);
  const directories: DataDirectory[] = [];
  for (let i = 0; i < dirCount; i++) {
    const entry = at + fixedSize + i * 8;
    directories.push({
      rva: r.u32(entry, 'data directory'),
      size: r.u32(entry + 4, 'data directory'),
    });
  }

  return {
    is64,
    entry_point: r.u32(at + 16, 'AddressOfEntryPoint'),
    image_base: is64 ? Number(r.u64(at + 24, 'ImageBase')) : r.u32(at + 28, 'ImageBase'),
    size_of_image: r.u32(at + 56, 'SizeOfImage'),
    size_of_headers: r.u32(at + 60, 'SizeOfHeaders'),
    subsystem: r.u16(at + 68, 'Subsystem'),
    dll_characteristics: r.u16(at + 70, 'DllCharacteristics'),
    directories,
  };
}

function parseSections(r: BoundedReader, at: number, count: number): PeSection[] {
  const sections: PeSection[] = [];
  for (let i = 0; i < count; i++) {
    const entry = at + i * 40;
    r.u32(entry + 36, 'section header');
    sections.push({
      name: r.slice(entry, 8).toString('latin1').replace(/\0+$/, ''),
      virtual_size: r.u32(entry + 8, 'VirtualSize'),
      virtual_address: r.u32(entry + 12, 'VirtualAddress'),
      raw_size: r.u32(entry + 16, 'SizeOfRawData'),
      raw_offset: r.u32(entry + 20, 'PointerToRawData'),
      characteristics: r.u32(entry + 36, 'section Characteristics'),
    });
  }
  return sections;
}

/**
 * Length of the image on disk: the end of the headers or of the last section's raw data,
 * whichever is further. The overlay (bytes appended after that) is not part of it.
 */
export function imageLength(headers: PeHeaders): number {
  let end = headers.size_of_headers;
  for (const s of headers.sections) {
    if (s.raw_size > 0) end = Math.max(end, s.raw_offset + s.raw_size);
  }
  return end;
}

/** Maps an RVA to a file offset relative to the image base, or null when no byte backs it. */
export function rvaToOffset(headers: PeHeaders, rva: number): number | null {
  if (rva < headers.size_of_headers) return rva;
  for (const s of headers.sections) {
    const span = Math.max(s.virtual_size, s.raw_size);
    if (rva >= s.virtual_address && rva < s.virtual_address + span) {
      const delta = rva - s.virtual_address;
      return delta < s.raw_size ? s.raw_offset + delta : null;
    }
  }
  return null;
}
