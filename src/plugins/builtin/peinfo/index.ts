/**
 * `peinfo` worker: the structure of a Windows PE file (EXE, DLL, driver): headers, sections
 * with entropy, imports and imphash, exports, resources.
 *
 * The parser is this plugin's own, with every read bounds-checked (see pe-format.ts): the one
 * PE library on npm (pe-library) ships as ES modules only and reads neither imports nor
 * exports. A payload that is not a PE, or whose headers are cut short, is a non-retryable
 * error; a broken import, export or resource directory is reported in `errors` while the
 * rest of the result stands.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { badInput, definePlugin } from '../../api';
import { imphash } from './imphash';
import {
  readExports,
  readImports,
  readResources,
  type ExportedFunction,
  type ResourceEntry,
} from './pe-directories';
import {
  BoundedReader,
  imageLength,
  parsePeHeaders,
  PeFormatError,
  type PeHeaders,
} from './pe-format';

// TODO(peinfo): delay-load imports, the Rich header, version info, TLS callbacks and
// Authenticode signatures are not parsed yet.
export const peinfoOptions = z.object({
  /** Larger payloads are refused rather than read into memory. */
  max_bytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** Most imported functions listed (over all DLLs); the rest is cut and flagged. */
  max_imports: z.number().int().positive().default(10_000),
  max_exports: z.number().int().positive().default(10_000),
  max_resources: z.number().int().positive().default(10_000),
});

/** One section of the section table. */
export interface PeinfoSection {
  name: string;
  virtual_address: number;
  virtual_size: number;
  raw_offset: number;
  raw_size: number;
  characteristics: string[];
  /** Shannon entropy of the section's raw bytes, 0..8 bits per byte. */
  entropy: number;
  md5: string;
}

/** The `peinfo` worker's result. */
export interface PeinfoResults {
  format: 'PE32' | 'PE32+';
  machine: string;
  /** TimeDateStamp as an ISO 8601 UTC date (linkers may write a hash or 0 here). */
  compile_time: string;
  timestamp: number;
  characteristics: string[];
  is_dll: boolean;
  subsystem: string;
  /** RVA of the entry point. */
  entry_point: number;
  image_base: number;
  image_size: number;
  sections: PeinfoSection[];
  /** Imported function names by DLL; an import by ordinal is written `ord<N>`. */
  imports: Record<string, string[]>;
  imphash: string | null;
  exports: { dll_name: string | null; functions: ExportedFunction[] } | null;
  resources: ResourceEntry[];
  /** Bytes after the image's last section, if any. */
  overlay: { offset: number; size: number } | null;
  /** Lists cut short by the max_* options. */
  truncated: string[];
}

const MACHINES: Record<number, string> = {
  0x14c: 'I386',
  0x8664: 'AMD64',
  0x1c0: 'ARM',
  0x1c4: 'ARMNT',
  0xaa64: 'ARM64',
  0x200: 'IA64',
  0x0: 'UNKNOWN',
};

const SUBSYSTEMS: Record<number, string> = {
  1: 'NATIVE',
  2: 'WINDOWS_GUI',
  3: 'WINDOWS_CUI',
  5: 'OS2_CUI',
  7: 'POSIX_CUI',
  9: 'WINDOWS_CE_GUI',
  10: 'EFI_APPLICATION',
  11: 'EFI_BOOT_SERVICE_DRIVER',
  12: 'EFI_RUNTIME_DRIVER',
  13: 'EFI_ROM',
  14: 'XBOX',
  16: 'WINDOWS_BOOT_APPLICATION',
};

const FILE_FLAGS: Array<[number, string]> = [
  [0x0001, 'RELOCS_STRIPPED'],
  [0x0002, 'EXECUTABLE_IMAGE'],
  [0x0020, 'LARGE_ADDRESS_AWARE'],
  [0x0100, '32BIT_MACHINE'],
  [0x0200, 'DEBUG_STRIPPED'],
  [0x1000, 'SYSTEM'],
  [0x2000, 'DLL'],
];

const SECTION_FLAGS: Array<[number, string]> = [
  [0x00000020, 'CNT_CODE'],
  [0x00000040, 'CNT_INITIALIZED_DATA'],
  [0x00000080, 'CNT_UNINITIALIZED_DATA'],
  [0x02000000, 'MEM_DISCARDABLE'],
  [0x10000000, 'MEM_SHARED'],
  [0x20000000, 'MEM_EXECUTE'],
  [0x40000000, 'MEM_READ'],
  [0x80000000, 'MEM_WRITE'],
];

function flagNames(value: number, table: Array<[number, string]>): string[] {
  return table.filter(([bit]) => (value & bit) >>> 0 === bit).map(([, name]) => name);
}

/** Shannon entropy in bits per byte. */
export function entropy(data: Buffer): number {
  if (data.length === 0) return 0;
  const counts = new Array<number>(256).fill(0);
  for (const byte of data) counts[byte]++;
  let bits = 0;
  for (const count of counts) {
    if (count) bits -= (count / data.length) * Math.log2(count / data.length);
  }
  return bits;
}

function describeSections(r: BoundedReader, h: PeHeaders): PeinfoSection[] {
  return h.sections.map((s) => {
    const raw = r.slice(s.raw_offset, s.raw_size);
    return {
      name: s.name,
      virtual_address: s.virtual_address,
      virtual_size: s.virtual_size,
      raw_offset: s.raw_offset,
      raw_size: s.raw_size,
      characteristics: flagNames(s.characteristics, SECTION_FLAGS),
      entropy: Number(entropy(raw).toFixed(6)),
      md5: createHash('md5').update(raw).digest('hex'),
    };
  });
}

function describeHeaders(h: PeHeaders, size: number) {
  const end = imageLength(h);
  return {
    format: h.is64 ? ('PE32+' as const) : ('PE32' as const),
    machine: MACHINES[h.machine] ?? `0x${h.machine.toString(16)}`,
    compile_time: new Date(h.timestamp * 1000).toISOString(),
    timestamp: h.timestamp,
    characteristics: flagNames(h.characteristics, FILE_FLAGS),
    is_dll: (h.characteristics & 0x2000) !== 0,
    subsystem: SUBSYSTEMS[h.subsystem] ?? String(h.subsystem),
    entry_point: h.entry_point,
    image_base: h.image_base,
    image_size: h.size_of_image,
    overlay: end < size ? { offset: end, size: size - end } : null,
  };
}

/** Runs one directory walker; a malformed directory becomes an error, not a failed scan. */
function guarded<T>(what: string, errors: string[], fallback: T, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof PeFormatError)) throw err;
    errors.push(`${what}: ${err.message}`);
    return fallback;
  }
}

export default definePlugin({
  name: 'peinfo',
  version: '1.0.0',
  description: 'Parses PE headers, sections, imports (with imphash), exports and resources',
  kinds: ['worker'],
  options: peinfoOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        if (payload.size > options.max_bytes) {
          throw badInput(
            `payload of ${payload.size} bytes exceeds peinfo max_bytes ${options.max_bytes}`,
          );
        }
        const buf = await payload.bytes({ maxBytes: options.max_bytes });

        let headers: PeHeaders;
        try {
          headers = parsePeHeaders(buf);
        } catch (err) {
          if (err instanceof PeFormatError)
            throw badInput(`not a readable PE file: ${err.message}`, err);
          throw err;
        }

        const r = new BoundedReader(buf);
        const errors: string[] = [];
        const truncated: string[] = [];
        const noList = { items: [], truncated: false };
        const imported = guarded('imports', errors, noList, () =>
          readImports(r, headers, options.max_imports),
        );
        const exported = guarded('exports', errors, null, () =>
          readExports(r, headers, options.max_exports),
        );
        const resources = guarded('resources', errors, noList, () =>
          readResources(r, headers, options.max_resources),
        );
        if (imported.truncated) truncated.push('imports');
        if (exported?.truncated) truncated.push('exports');
        if (resources.truncated) truncated.push('resources');

        const imports: Record<string, string[]> = Object.create(null);
        for (const dll of imported.items)
          imports[dll.dll] = [...(imports[dll.dll] ?? []), ...dll.functions];

        const results: PeinfoResults = {
          ...describeHeaders(headers, buf.length),
          sections: describeSections(r, headers),
          imports,
          imphash: imphash(imported.items),
          exports: exported && { dll_name: exported.dll_name, functions: exported.items },
          resources: resources.items,
          truncated,
        };
        return { results, errors };
      },
    },
  }),
});
