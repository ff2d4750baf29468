/**
 * `yara` worker and dispatcher: matches YARA rules (compiled by YARA-X) against payloads.
 *
 * As a worker it reports each matching rule with its namespace, tags, meta and string
 * matches. As a dispatcher it names the plugins to run. Either way a rule routes payloads
 * through one meta entry (`plugins` by default) that lists plugin names:
 *
 * ```yara
 * rule zip_file {
 *   meta: plugins = "decompress, hash"
 *   strings: $pk = { 50 4B 03 04 }
 *   condition: $pk at 0
 * }
 * ```
 *
 * Rules compile once, in `create`; a rule that does not compile fails plugin creation with
 * its file, line and reason.
 */
import { z } from 'zod';
import { badInput, definePlugin, type Payload } from '../../api';
import { compileRules, type CompiledRules } from './rules';

export const yaraOptions = z
  .object({
    /** A .yar/.yara file, or a directory searched recursively; relative to the stoQ home. */
    rules: z.string().min(1).optional(),
    /** Rules given inline, compiled under the namespace `default`. */
    rules_text: z.string().min(1).optional(),
    /** Rules for the dispatcher only; when absent the dispatcher uses `rules`/`rules_text`. */
    dispatch_rules: z.string().min(1).optional(),
    dispatch_rules_text: z.string().min(1).optional(),
    /** The meta key whose value lists plugins to dispatch to (comma or space separated). */
    dispatch_meta_key: z.string().min(1).default('plugins'),
    /** Most matches kept per string identifier of a rule. */
    max_strings: z.number().int().positive().default(20),
    /** Bytes of matched data shown per string match. */
    max_match_data: z.number().int().nonnegative().default(64),
    /** Larger payloads are refused rather than scanned. */
    max_bytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 * 1024),
  })
  .refine((o) => o.rules !== undefined || o.rules_text !== undefined, {
    message: 'set rules (a file or directory) or rules_text',
    path: ['rules'],
  });
export type YaraOptions = z.output<typeof yaraOptions>;

/** One string match: where a string identifier matched and (a prefix of) the bytes. */
export interface YaraStringMatch {
  identifier: string;
  offset: number;
  length: number;
  /** Matched bytes, printable ASCII as-is and anything else as `\xNN`, cut to max_match_data. */
  data: string;
}

/** One matching rule, as the worker reports it. */
export interface YaraRuleMatch {
  rule: string;
  namespace: string;
  tags: string[];
  meta: Record<string, unknown>;
  strings: YaraStringMatch[];
}

/** The `yara` worker's result. */
export interface YaraResults {
  matches: YaraRuleMatch[];
}

/** Renders matched bytes readably and losslessly: printable ASCII as-is, the rest escaped. */
export function escapeBytes(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x5c;
    out += printable ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Plugin names a rule's meta asks for; a list separated by commas or whitespace. */
export function pluginsFromMeta(meta: Record<string, unknown>, key: string): string[] {
  const value = meta[key];
  if (typeof value !== 'string') return [];
  return value.split(/[\s,]+/).filter((name) => name.length > 0);
}

/**
 * The first `max` matches of each string identifier. The binding's own per-pattern limit does
 * not hold for async scans, so the bound is applied here as well.
 */
function boundedStrings<T extends { identifier: string }>(matches: T[], max: number): T[] {
  const seen = new Map<string, number>();
  return matches.filter((m) => {
    const count = (seen.get(m.identifier) ?? 0) + 1;
    seen.set(m.identifier, count);
    return count <= max;
  });
}

// TODO(yara): the binding has no scan timeout, so a slow rule on a large payload is bounded only
// by the activity timeout; and @litko/yara-x 0.3.0 reports boolean meta values as "unknown".
async function matchAll(rules: CompiledRules[], data: Buffer, options: YaraOptions) {
  const matches: YaraRuleMatch[] = [];
  for (const { namespace, scanner } of rules) {
    for (const m of await scanner.scanAsync(data)) {
      matches.push({
        rule: m.ruleIdentifier,
        namespace,
        tags: m.tags,
        meta: { ...(m.meta as Record<string, unknown>) },
        strings: boundedStrings(m.matches, options.max_strings).map((s) => ({
          identifier: s.identifier,
          offset: s.offset,
          length: s.length,
          data: escapeBytes(
            data.subarray(s.offset, s.offset + Math.min(s.length, options.max_match_data)),
          ),
        })),
      });
    }
  }
  return matches;
}

async function readPayload(payload: Payload, maxBytes: number): Promise<Buffer> {
  if (payload.size > maxBytes) {
    throw badInput(`payload of ${payload.size} bytes exceeds yara max_bytes ${maxBytes}`);
  }
  return payload.bytes({ maxBytes });
}

function dispatchTargets(matches: YaraRuleMatch[], key: string): string[] {
  return [...new Set(matches.flatMap((m) => pluginsFromMeta(m.meta, key)))];
}

export default definePlugin({
  name: 'yara',
  version: '1.0.0',
  description: 'Matches YARA rules (YARA-X) and dispatches on rule meta',
  kinds: ['worker', 'dispatcher'],
  options: yaraOptions,
  create(options, context) {
    const workerRules = compileRules(options, context.stoqHome, options.max_strings);
    const dispatchRules =
      options.dispatch_rules || options.dispatch_rules_text
        ? compileRules(
            { rules: options.dispatch_rules, rules_text: options.dispatch_rules_text },
            context.stoqHome,
            options.max_strings,
          )
        : workerRules;
    context.logger.info(
      { ruleSources: workerRules.length, dispatchRuleSources: dispatchRules.length },
      'yara rules compiled',
    );

    return {
      worker: {
        async scan(payload) {
          const matches = await matchAll(
            workerRules,
            await readPayload(payload, options.max_bytes),
            options,
          );
          const results: YaraResults = { matches };
          return { results, dispatch_to: dispatchTargets(matches, options.dispatch_meta_key) };
        },
      },
      dispatcher: {
        async dispatch(payload) {
          const matches = await matchAll(
            dispatchRules,
            await readPayload(payload, options.max_bytes),
            options,
          );
          return {
            plugin_names: dispatchTargets(matches, options.dispatch_meta_key),
            meta: { rules: matches.map((m) => `${m.namespace}:${m.rule}`) },
          };
        },
      },
    };
  },
});
