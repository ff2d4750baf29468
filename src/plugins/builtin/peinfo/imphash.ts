import { createHash } from 'node:crypto';
import { ORDINAL_NAMES } from './ordinals';
import type { ImportedDll } from './pe-directories';

const STRIPPED_EXTENSIONS = new Set(['dll', 'ocx', 'sys']);

/**
 * The import hash as pefile computes it (and so VirusTotal and most imphash databases):
 * `dll.function` per import, DLL lowercased without a .dll/.ocx/.sys extension, imports by
 * ordinal named from the known ordinal tables or written `ord<N>`, all lowercased, joined by
 * commas, MD5. Null when the file imports nothing.
 */
export function imphash(imports: ImportedDll[]): string | null {
  const parts: string[] = [];
  for (const entry of imports) {
    const dll = entry.dll.toLowerCase();
    const dot = dll.lastIndexOf('.');
    const stem = dot >= 0 && STRIPPED_EXTENSIONS.has(dll.slice(dot + 1)) ? dll.slice(0, dot) : dll;
    const table = ORDINAL_NAMES[dll];

    entry.functions.forEach((fn, index) => {
      const ordinal = entry.ordinals.get(index);
      const name = ordinal === undefined ? fn : (table?.[ordinal] ?? `ord${ordinal}`);
      if (name) parts.push(`${stem}.${name.toLowerCase()}`);
    });
  }
  if (parts.length === 0) return null;
  return createHash('md5').update(parts.join(',')).digest('hex');
}
