/**
 * Plugin options: where they come from and how they are validated.
 *
 * Precedence, lowest first: the schema's defaults < the plugin manifest's `options` <
 * the `stoq.cfg` section named after the plugin < `--plugin-opts NAME:KEY=VALUE`.
 *
 * Besides its own options, every plugin accepts the framework's activity settings
 * (retries, timeouts, `required_workers`), so an operator tunes a flaky API plugin in
 * the same section as its API key.
 */
import { z } from 'zod';
import type { OptionsSchema, PluginDefinition } from '../plugins/api';
import { ConfigError, describeZodIssues } from './errors';

const seconds = z.coerce.number().positive();

export const activitySettingsSchema = z.object({
  retry_max_attempts: z.coerce.number().int().min(1).default(3),
  retry_initial_interval: seconds.default(1),
  retry_backoff: z.coerce.number().min(1).default(2),
  retry_max_interval: seconds.default(30),
  start_to_close_timeout: seconds.default(600),
  heartbeat_timeout: seconds.default(60),
});
export type ActivitySettings = z.infer<typeof activitySettingsSchema>;

const FRAMEWORK_KEYS = new Set([...Object.keys(activitySettingsSchema.shape), 'required_workers']);

/** One layer of raw option values and a label for error messages. */
export interface OptionLayer {
  label: string;
  values: Record<string, unknown>;
}

export interface ResolvedPluginOptions {
  options: Record<string, unknown>;
  activity: ActivitySettings;
  requiredWorkers: string[];
}

/**
 * Merges the layers over the schema defaults and validates the result. Throws
 * {@link ConfigError} naming the plugin, the key, the value and what was expected.
 */
export function resolvePluginOptions(
  definition: PluginDefinition,
  layers: OptionLayer[],
): ResolvedPluginOptions {
  const own: Record<string, unknown> = {};
  const framework: Record<string, unknown> = {};
  const origin: Record<string, string> = {};

  for (const layer of layers) {
    for (const [key, raw] of Object.entries(layer.values)) {
      const target = FRAMEWORK_KEYS.has(key) ? framework : own;
      target[key] = FRAMEWORK_KEYS.has(key) ? raw : coerceOption(definition.options, key, raw);
      origin[key] = layer.label;
    }
  }

  const where = `plugin "${definition.name}" option`;
  const options = parseOrThrow(definition.options, own, origin, where);
  const { required_workers: required, ...activityRaw } = framework;
  const activity = parseOrThrow(activitySettingsSchema, activityRaw, origin, where);
  const requiredWorkers =
    required === undefined ? [...(definition.requiredWorkers ?? [])] : splitList(required);

  return { options, activity, requiredWorkers };
}

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  values: Record<string, unknown>,
  origin: Record<string, string>,
  where: string,
): z.output<S> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;

  const lines = parsed.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.') || unknownKeyOf(issue) || '(options)';
    const topKey = key.split('.')[0];
    const from = origin[topKey] ? ` (from ${origin[topKey]})` : '';
    const single = new z.ZodError([issue]);
    return describeZodIssues(`${where}${from}`, single, values);
  });
  throw new ConfigError(lines.join('\n'));
}

function unknownKeyOf(issue: z.core.$ZodIssue): string | undefined {
  return issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : undefined;
}

function splitList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * INI files and the command line give strings; turn one into what the schema expects for
 * that key, so `max_size = 1024` reaches a number option as 1024. Values already typed
 * (from a JSON manifest) pass through untouched.
 */
export function coerceOption(schema: OptionsSchema, key: string, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const expected = baseTypeOf(fieldSchema(schema, key));

  switch (expected) {
    case 'number':
    case 'int':
    case 'bigint': {
      const number = Number(raw.trim());
      return raw.trim() !== '' && Number.isFinite(number) ? number : raw;
    }
    case 'boolean': {
      const lowered = raw.trim().toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(lowered)) return true;
      if (['false', 'no', '0', 'off'].includes(lowered)) return false;
      return raw;
    }
    case 'array':
      return raw.trim().startsWith('[') ? parseJsonOr(raw) : splitList(raw);
    case 'object':
    case 'record':
      return parseJsonOr(raw);
    default:
      return raw;
  }
}

function parseJsonOr(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

interface ZodInternals {
  _zod: {
    def: { type: string; innerType?: unknown; in?: unknown; shape?: Record<string, unknown> };
  };
}

function fieldSchema(schema: OptionsSchema, key: string): unknown {
  const def = (schema as unknown as ZodInternals)._zod?.def;
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape ?? def?.shape;
  return shape?.[key];
}

/** Looks through default/optional/nullable/pipe wrappers to the type a value must have. */
function baseTypeOf(schema: unknown): string | undefined {
  let current = schema as ZodInternals | undefined;
  for (let depth = 0; current && depth < 10; depth++) {
    const def = current._zod?.def;
    if (!def) return undefined;
    const wrapped = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!wrapped) return def.type;
    current = wrapped as ZodInternals;
  }
  return undefined;
}
