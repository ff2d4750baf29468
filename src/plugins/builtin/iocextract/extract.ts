/**
 * Indicator extraction from text: refang, then match, then validate and de-duplicate.
 * Kept apart from the plugin so other plugins (mail, templates) can reuse it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import tlds from 'tlds';

export const IOC_TYPES = [
  'url',
  'domain',
  'ipv4',
  'ipv6',
  'email',
  'md5',
  'sha1',
  'sha256',
] as const;
export type IocType = (typeof IOC_TYPES)[number];

/** Indicators grouped by type, each list de-duplicated in order of first appearance. */
export type Iocs = Partial<Record<IocType, string[]>>;

const TOP_LEVEL_DOMAINS = new Set(tlds);

// Defanging conventions seen in threat reports, mapped back to what they hide.
const REFANGS: Array<[RegExp, string]> = [
  [/\bh(?:xx|XX|\*\*|tt)p(s?)\b/gi, 'http$1'],
  [/\bfxp\b/gi, 'ftp'],
  [/\[(?::\/\/|:\/\/)\]/g, '://'],
  [/\[:\]/g, ':'],
  [/\s?[[({]\s*(?:\.|dot)\s*[\])}]\s?/gi, '.'],
  [/\s?[[({]\s*(?:@|at)\s*[\])}]\s?/gi, '@'],
  [/\\\./g, '.'],
];

const PATTERNS: Record<IocType, RegExp> = {
  url: /\b(?:https?|ftp|sftp):\/\/[^\s"'<>`\\{}|^]+/gi,
  email: /\b[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}\b/gi,
  domain: /\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}\b/gi,
  ipv4: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g,
  ipv6: /(?<![0-9a-z:.])(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?![0-9a-z:])/gi,
  md5: /\b[0-9a-f]{32}\b/gi,
  sha1: /\b[0-9a-f]{40}\b/gi,
  sha256: /\b[0-9a-f]{64}\b/gi,
};

const VALIDATORS: Partial<Record<IocType, (value: string) => boolean>> = {
  domain: (value) => TOP_LEVEL_DOMAINS.has(value.slice(value.lastIndexOf('.') + 1)),
  email: (value) => TOP_LEVEL_DOMAINS.has(value.slice(value.lastIndexOf('.') + 1)),
  ipv4: isIPv4,
  ipv6: (value) => isIPv6(value) && value !== '::',
};

/** Undoes common defanging: `hxxp`, `[.]`, `(.)`, `[dot]`, `[at]`, `[:]`, `[://]`. */
export function refang(text: string): string {
  return REFANGS.reduce(
    (current, [pattern, replacement]) => current.replace(pattern, replacement),
    text,
  );
}

/** Extracts indicators of the given types; at most `maxPerType` of each. */
export function extractIocs(
  text: string,
  types: readonly IocType[] = IOC_TYPES,
  maxPerType = Infinity,
): Iocs {
  const refanged = refang(text);
  const found: Iocs = {};

  for (const type of types) {
    const values = new Set<string>();
    for (const match of refanged.matchAll(PATTERNS[type])) {
      const value = normalize(type, match[0]);
      if (VALIDATORS[type] && !VALIDATORS[type](value)) continue;
      values.add(value);
      if (values.size >= maxPerType) break;
    }
    if (values.size > 0) found[type] = [...values];
  }
  return found;
}

function normalize(type: IocType, value: string): string {
  if (type === 'url') return value.replace(/[.,;:!?)\]'"]+$/, '');
  return value.toLowerCase();
}
