/**
 * Import, export and resource directories of a parsed PE. Each walker takes a budget: past it
 * the list stops and `truncated` says so, so a file claiming a million imports costs no more
 * than the budget.
 */
import { BoundedReader, PeFormatError, PeHeaders, rvaToOffset } from './pe-format';

const IMPORT_DIRECTORY = 1;
const EXPORT_DIRECTORY = 0;
const RESOURCE_DIRECTORY = 2;

export interface ImportedDll {
  dll: string;
  /** Function names; an import by ordinal is written `ord<N>`. */
  functions: string[];
  /** Ordinal of each function imported by ordinal, by its index in `functions`. */
  ordinals: Map<number, number>;
}

export interface ExportedFunction {
  ordinal: number;
  name: string | null;
  rva: number;
  /** Set when the export forwards to another DLL (`OTHER.Function`). */
  forwarder?: string;
}

export interface ResourceEntry {
  type: string;
  name: string;
  lang: number;
  size: number;
  rva: number;
}

export interface Listed<T> {
  items: T[];
  truncated: boolean;
}

/** The resource types Windows defines, by id, with the names pefile and most tools print. */
const RESOURCE_TYPES: Record<number, string> = {
  1: 'RT_CURSOR',
  2: 'RT_BITMAP',
  3: 'RT_ICON',
  4: 'RT_MENU',
  5: 'RT_DIALOG',
  6: 'RT_STRING',
  7: 'RT_FONTDIR',
  8: 'RT_FONT',
  9: 'RT_ACCELERATOR',
  10: 'RT_RCDATA',
  11: 'RT_MESSAGETABLE',
  12: 'RT_GROUP_CURSOR',
  14: 'RT_GROUP_ICON',
  16: 'RT_VERSION',
  17: 'RT_DLGINCLUDE',
  19: 'RT_PLUGPLAY',
  20: 'RT_VXD',
  21: 'RT_ANICURSOR',
  22: 'RT_ANIICON',
  23: 'RT_HTML',
  24: 'RT_MANIFEST',
};

function offsetOf(headers: PeHeaders, rva: number, what: string): number {
  const offset = rvaToOffset(headers, rva);
  if (offset === null)
    throw new PeFormatError(`${what} RVA 0x${rva.toString(16)} maps to no file data`);
  return offset;
}

/** Walks the import descriptors; `budget` bounds the total number of functions read. */
export function readImports(r: BoundedReader, h: PeHeaders, budget: number): Listed<ImportedDll> {
  const dir = h.directories[IMPORT_DIRECTORY];
  const result: Listed<ImportedDll> = { items: [], truncated: false };
  if (!dir || dir.rva === 0) return result;

  let at = offsetOf(h, dir.rva, 'import directory');
  let remaining = budget;
  for (;;) {
    const lookup = r.u32(at, 'import descriptor');
    const nameRva = r.u32(at + 12, 'import descriptor');
    const iat = r.u32(at + 16, 'import descriptor');
    if (nameRva === 0 && iat === 0 && lookup === 0) break;
    if (remaining <= 0) return { ...result, truncated: true };

    const dll: ImportedDll = {
      dll: r.cstring(offsetOf(h, nameRva, 'DLL name'), 'DLL name'),
      functions: [],
      ordinals: new Map(),
    };
    remaining -= readThunks(r, h, lookup || iat, dll, remaining);
    result.items.push(dll);
    if (remaining <= 0) result.truncated = true;
    at += 20;
  }
  return result;
}

function readThunks(r: BoundedReader, h: PeHeaders, rva: number, dll: ImportedDll, budget: number) {
  const width = h.is64 ? 8 : 4;
  let at = offsetOf(h, rva, 'import lookup table');
  let read = 0;
  for (; read < budget; read++, at += width) {
    const thunk = h.is64 ? r.u64(at, 'import thunk') : BigInt(r.u32(at, 'import thunk'));
    if (thunk === 0n) break;

    const byOrdinal = h.is64 ? thunk >> 63n === 1n : thunk >> 31n === 1n;
    if (byOrdinal) {
      const ordinal = Number(thunk & 0xffffn);
      dll.ordinals.set(dll.functions.length, ordinal);
      dll.functions.push(`ord${ordinal}`);
    } else {
      const hintName = offsetOf(h, Number(thunk & 0x7fffffffn), 'import name');
      dll.functions.push(r.cstring(hintName + 2, 'import name'));
    }
  }
  return Math.max(read, 1);
}

/** Reads the export directory: the module's own name and its functions, up to `budget`. */
export function readExports(
  r: BoundedReader,
  h: PeHeaders,
  budget: number,
): (Listed<ExportedFunction> & { dll_name: string | null }) | null {
  const dir = h.directories[EXPORT_DIRECTORY];
  if (!dir || dir.rva === 0) return null;

  const at = offsetOf(h, dir.rva, 'export directory');
  const nameRva = r.u32(at + 12, 'export directory');
  const ordinalBase = r.u32(at + 16, 'export directory');
  const functionCount = r.u32(at + 20, 'export directory');
  const nameCount = r.u32(at + 24, 'export directory');
  const functions = offsetOf(h, r.u32(at + 28, 'export directory'), 'export address table');
  const names = nameCount
    ? offsetOf(h, r.u32(at + 32, 'export directory'), 'export name table')
    : 0;
  const ordinals = nameCount
    ? offsetOf(h, r.u32(at + 36, 'export directory'), 'export ordinals')
    : 0;

  const nameByIndex = new Map<number, string>();
  for (let i = 0; i < Math.min(nameCount, budget); i++) {
    const index = r.u16(ordinals + 2 * i, 'export ordinal');
    const name = rvaToOffset(h, r.u32(names + 4 * i, 'export name'));
    if (name !== null) nameByIndex.set(index, r.cstring(name, 'export name'));
  }

  const items: ExportedFunction[] = [];
  for (let i = 0; i < Math.min(functionCount, budget); i++) {
    const rva = r.u32(functions + 4 * i, 'export address');
    if (rva === 0) continue;
    const entry: ExportedFunction = {
      ordinal: ordinalBase + i,
      name: nameByIndex.get(i) ?? null,
      rva,
    };
    const offset = rvaToOffset(h, rva);
    // An address inside the export directory is a forwarder string, not code.
    if (rva >= dir.rva && rva < dir.rva + dir.size && offset !== null) {
      entry.forwarder = r.cstring(offset, 'export forwarder');
    }
    items.push(entry);
  }

  const dllName = nameRva ? rvaToOffset(h, nameRva) : null;
  return {
    dll_name: dllName === null ? null : r.cstring(dllName, 'export DLL name'),
    items,
    truncated: functionCount > budget || nameCount > budget,
  };
}

/**
 * Walks the three-level resource tree (type, name, language). Directories already visited
 * are skipped, so a tree that points back at itself ends instead of looping.
 */
export function readResources(
  r: BoundedReader,
  h: PeHeaders,
  budget: number,
): Listed<ResourceEntry> {
  const dir = h.directories[RESOURCE_DIRECTORY];
  const result: Listed<ResourceEntry> = { items: [], truncated: false };
  if (!dir || dir.rva === 0) return result;

  const root = offsetOf(h, dir.rva, 'resource directory');
  const visited = new Set<number>();
  let visits = 0;

  const walk = (offset: number, level: number, path: Array<number | string>): void => {
    if (visited.has(offset) || level > 2) return;
    visited.add(offset);
    const count =
      r.u16(offset + 12, 'resource directory') + r.u16(offset + 14, 'resource directory');
    for (let i = 0; i < count; i++) {
      if (++visits > budget) {
        result.truncated = true;
        return;
      }
      const entry = offset + 16 + 8 * i;
      const key = resourceKey(r, root, r.u32(entry, 'resource entry'));
      const target = r.u32(entry + 4, 'resource entry');
      if (target & 0x80000000) walk(root + (target & 0x7fffffff), level + 1, [...path, key]);
      else if (level === 2) result.items.push(resourceLeaf(r, h, root + target, [...path, key]));
    }
  };

  walk(root, 0, []);
  return result;
}

function resourceKey(r: BoundedReader, root: number, field: number): number | string {
  if (!(field & 0x80000000)) return field;
  const at = root + (field & 0x7fffffff);
  const length = r.u16(at, 'resource name');
  return r.slice(at + 2, Math.min(length, 256) * 2).toString('utf16le');
}

function resourceLeaf(
  r: BoundedReader,
  h: PeHeaders,
  at: number,
  [type, name, lang]: Array<number | string>,
): ResourceEntry {
  return {
    type: typeof type === 'number' ? (RESOURCE_TYPES[type] ?? String(type)) : type,
    name: String(name),
    lang: typeof lang === 'number' ? lang : 0,
    rva: r.u32(at, 'resource data entry'),
    size: r.u32(at + 4, 'resource data entry'),
  };
}
