/**
 * `filetype` dispatcher: routes a payload to workers by its libmagic content type.
 *
 * `rules` maps a MIME type, or a glob with `*` (`image/*`, `application/vnd.ms-*`), to one
 * or more worker names; every matching rule contributes. Matching ignores case. The
 * detected type goes into the dispatcher meta as `{ mimetype, description }`, where
 * workers read it from `payload.dispatch_meta.filetype`.
 */
import { z } from 'zod';
import { definePlugin } from '../../api';
import { DEFAULT_DETECT_BYTES, detectBuffer, readHead } from '../mimetype/detect';

const ARCHIVES = [
  'application/zip',
  'application/gzip',
  'application/x-gzip',
  'application/x-tar',
  'application/x-bzip2',
  'application/x-xz',
  'application/x-7z-compressed',
];
const EXECUTABLES = ['application/x-dosexec', 'application/vnd.microsoft.portable-executable'];
const OLE_DOCUMENTS = [
  'application/x-ole-storage',
  'application/CDFV2',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
  'application/vnd.ms-outlook',
  'application/vnd.ms-office',
];

/**
 * libmagic calls base64 text `text/plain`. Text that is base64 through and through (long
 * enough not to be an ordinary word) is also offered to the rules as this type, so a blob
 * of encoded content gets decoded without decoding every text file.
 */
export const BASE64_TYPE = 'text/x-base64';
const MIN_BASE64_CHARS = 64;

/** True when `head` (the whole payload when `complete`) reads as base64 text. */
export function looksLikeBase64(head: Buffer, complete: boolean): boolean {
  const compact = head.toString('latin1').replace(/\s+/g, '');
  if (compact.length < MIN_BASE64_CHARS) return false;
  if (!complete) return /^[A-Za-z0-9+/]+={0,2}$/.test(compact);
  return /^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0;
}

/** The routing used when `rules` is not configured. */
export const DEFAULT_FILETYPE_RULES: Readonly<Record<string, string[]>> = Object.freeze({
  ...Object.fromEntries(ARCHIVES.map((type) => [type, ['decompress']])),
  ...Object.fromEntries(EXECUTABLES.map((type) => [type, ['peinfo']])),
  'message/rfc822': ['smtp'],
  ...Object.fromEntries(OLE_DOCUMENTS.map((type) => [type, ['ole']])),
  'image/*': ['exif'],
  [BASE64_TYPE]: ['b64decode'],
});

const workerNames = z.union([z.string().min(1), z.array(z.string().min(1))]);

export const filetypeOptions = z.object({
  /** MIME type or glob -> worker name(s). Replaces the default table when given. */
  rules: z.record(z.string().min(1), workerNames).default(() => ({ ...DEFAULT_FILETYPE_RULES })),
  /** Bytes from the start of the payload that libmagic examines. */
  max_bytes: z.number().int().positive().default(DEFAULT_DETECT_BYTES),
});

type Rules = z.output<typeof filetypeOptions>['rules'];

interface CompiledRule {
  pattern: RegExp;
  workers: string[];
}

/** Compiles `rules` once; a `*` in a key matches any run of characters. */
export function compileRules(rules: Rules): CompiledRule[] {
  return Object.entries(rules).map(([glob, workers]) => {
    const source = glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*');
    return { pattern: new RegExp(`^${source}$`, 'i'), workers: [workers].flat() };
  });
}

/** The workers that the rules route a MIME type to, de-duplicated, in rule order. */
export function workersFor(mimetype: string, rules: CompiledRule[]): string[] {
  const matched = rules.filter((rule) => rule.pattern.test(mimetype));
  return [...new Set(matched.flatMap((rule) => rule.workers))];
}

export default definePlugin({
  name: 'filetype',
  version: '1.0.0',
  description: 'Dispatches payloads to workers by their libmagic content type',
  kinds: ['dispatcher'],
  options: filetypeOptions,
  create: (options) => {
    const rules = compileRules(options.rules);
    return {
      dispatcher: {
        async dispatch(payload) {
          const head = await readHead(payload, options.max_bytes);
          const detection = await detectBuffer(head);
          const types = [detection.mimetype];
          if (
            detection.mimetype === 'text/plain' &&
            looksLikeBase64(head, head.length === payload.size)
          ) {
            types.push(BASE64_TYPE);
          }

          return {
            plugin_names: [...new Set(types.flatMap((type) => workersFor(type, rules)))],
            meta: { mimetype: detection.mimetype, description: detection.description, types },
          };
        },
      },
    };
  },
});
