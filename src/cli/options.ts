/**
 * Validating command-line flags. commander collects raw strings; the zod schemas here turn
 * them into typed options, and every mistake becomes a {@link ConfigError} naming the flag
 * and what was expected, so the central handler exits with status 2.
 */
import { z } from 'zod';
import { parseTimeBound, SCAN_STATUSES } from '../client/history';
import { ConfigError } from '../config/errors';
import { LOG_LEVELS } from '../config/stoq-config';
import { scanIdSchema } from '../scan/ids';

/** Accepts repeats and comma-separated lists: `-a hash -a yara,mimetype`. */
export function collectList(value: string, previous: string[] = []): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return [...previous, ...items];
}

/** Accepts repeats without splitting (values may hold commas): `--plugin-opts a:b=1,2`. */
export function collectRaw(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * `NAME:KEY=VALUE`: the plugin name ends at the first `:`, the key at the first `=` after
 * it; the value keeps every further `:` and `=` (URLs, base64, `a=b` expressions).
 */
export function parsePluginOpt(raw: string): { plugin: string; key: string; value: string } {
  const colon = raw.indexOf(':');
  const equals = colon < 0 ? -1 : raw.indexOf('=', colon + 1);
  const plugin = colon < 0 ? '' : raw.slice(0, colon).trim();
  const key = equals < 0 ? '' : raw.slice(colon + 1, equals).trim();
  if (!plugin || !key) {
    throw new ConfigError(`--plugin-opts: expected NAME:KEY=VALUE, got ${JSON.stringify(raw)}`);
  }
  return { plugin, key, value: raw.slice(equals + 1) };
}

/** `KEY=VALUE`, split at the first `=`. */
export function parseKeyValue(flag: string, raw: string): { key: string; value: string } {
  const equals = raw.indexOf('=');
  const key = equals < 0 ? '' : raw.slice(0, equals).trim();
  if (!key) throw new ConfigError(`${flag}: expected KEY=VALUE, got ${JSON.stringify(raw)}`);
  return { key, value: raw.slice(equals + 1) };
}

/** Groups `--plugin-opts` values by plugin, the shape `PlanOverrides.plugin_opts` takes. */
export function pluginOptsFrom(raws: string[] = []): Record<string, Record<string, string>> {
  const grouped: Record<string, Record<string, string>> = {};
  for (const raw of raws) {
    const { plugin, key, value } = parsePluginOpt(raw);
    (grouped[plugin] ??= {})[key] = value;
  }
  return grouped;
}

export function keyValuesFrom(flag: string, raws: string[] = []): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of raws) {
    const { key, value } = parseKeyValue(flag, raw);
    values[key] = value;
  }
  return values;
}

const positiveInt = z.coerce
  .number({ error: 'expected a whole number' })
  .int('expected a whole number')
  .min(1, 'expected at least 1');
const names = z.array(z.string().min(1)).optional();

/** Flags every command shares. */
export const commonFlagsSchema = z.object({
  configFile: z.string().min(1).optional(),
  pluginDir: z.array(z.string().min(1)).optional(),
  logLevel: z.enum(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(', ')}`).optional(),
});

/** The Temporal connection flags; they override env vars, profiles and `stoq.cfg`. */
export const connectionFlagsSchema = z.object({
  address: z
    .string()
    .regex(/^[^\s/]+:\d{1,5}$/, 'expected HOST:PORT')
    .optional(),
  namespace: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  tls: z.boolean().optional(),
  tlsCertPath: z.string().min(1).optional(),
  tlsKeyPath: z.string().min(1).optional(),
  tlsCaPath: z.string().min(1).optional(),
  tlsServerName: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  connectTimeout: z.coerce
    .number({ error: 'expected a number of seconds' })
    .positive('expected a positive number of seconds')
    .optional(),
});
export type ConnectionFlags = z.infer<typeof connectionFlagsSchema>;

/** The scan plan flags, shared by `stoq scan` and `stoq run`. */
export const planFlagsSchema = z.object({
  startDispatch: names,
  alwaysDispatch: names,
  dispatchers: names,
  destArchivers: names,
  sourceArchivers: names,
  decorators: names,
  connectors: names,
  maxRecursion: z.coerce
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .min(0, 'expected 0 or more')
    .optional(),
  pluginOpts: z.array(z.string()).optional(),
  requestSource: z.string().optional(),
  requestExtra: z.array(z.string()).optional(),
  taskQueue: z.string().min(1).optional(),
  localWorker: z.boolean().optional(),
});
export type PlanFlags = z.infer<typeof planFlagsSchema>;

export const scanFlagsSchema = commonFlagsSchema
  .extend(connectionFlagsSchema.shape)
  .extend(planFlagsSchema.shape)
  .extend({
    scanId: scanIdSchema.optional(),
    detach: z.boolean().optional(),
  });
export type ScanFlags = z.infer<typeof scanFlagsSchema>;

export const runFlagsSchema = commonFlagsSchema
  .extend(connectionFlagsSchema.shape)
  .extend(planFlagsSchema.shape)
  .extend({
    providers: z.array(z.string().min(1)).optional(),
    maxQueue: positiveInt.optional(),
    providerConsumers: positiveInt.optional(),
    wait: z.boolean().default(true),
  });
export type RunFlags = z.infer<typeof runFlagsSchema>;

export const workerFlagsSchema = commonFlagsSchema.extend(connectionFlagsSchema.shape).extend({
  taskQueue: z.string().min(1).optional(),
  maxConcurrentActivities: positiveInt.optional(),
  maxConcurrentWorkflows: positiveInt.optional(),
});
export type WorkerFlags = z.infer<typeof workerFlagsSchema>;

const port = z.coerce
  .number({ error: 'expected a port number' })
  .int()
  .min(1, 'expected a port number')
  .max(65535, 'expected a port number');

export const serverFlagsSchema = commonFlagsSchema.extend({
  port: port.optional(),
  uiPort: port.optional(),
  ip: z.string().min(1).optional(),
  headless: z.boolean().optional(),
  namespace: z.string().min(1).optional(),
});
export type ServerFlags = z.infer<typeof serverFlagsSchema>;

export const showFlagsSchema = commonFlagsSchema.extend(connectionFlagsSchema.shape).extend({
  wait: z.boolean().optional(),
});
export type ShowFlags = z.infer<typeof showFlagsSchema>;

const sessionFlagsSchema = commonFlagsSchema.extend(connectionFlagsSchema.shape);

export const statusFlagsSchema = sessionFlagsSchema.extend({ json: z.boolean().optional() });
export type StatusFlags = z.infer<typeof statusFlagsSchema>;

export const cancelFlagsSchema = sessionFlagsSchema.extend({ wait: z.boolean().default(true) });
export type CancelFlags = z.infer<typeof cancelFlagsSchema>;

const timeBound = z.string().transform((value, ctx) => {
  const time = parseTimeBound(value);
  if (!time) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected an ISO time or a duration such as 24h or 7d',
    });
    return z.NEVER;
  }
  return time;
});
const keyword = z.string().min(1, 'expected a value').max(1000, 'expected at most 1000 characters');

export const historyFlagsSchema = sessionFlagsSchema.extend({
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits')
    .transform((value) => value.toLowerCase())
    .optional(),
  filename: keyword.optional(),
  source: keyword.optional(),
  errors: z.boolean().optional(),
  since: timeBound.optional(),
  until: timeBound.optional(),
  worker: keyword.optional(),
  yaraRule: keyword.optional(),
  status: z.enum(SCAN_STATUSES, `expected one of ${SCAN_STATUSES.join(', ')}`).optional(),
  limit: positiveInt.max(10_000, 'expected at most 10000').default(50),
  json: z.boolean().optional(),
});
export type HistoryFlags = z.infer<typeof historyFlagsSchema>;

export const setupFlagsSchema = sessionFlagsSchema;
export type SetupFlags = z.infer<typeof setupFlagsSchema>;

export const codecServerFlagsSchema = commonFlagsSchema.extend({
  port: port.optional(),
  host: z.string().min(1).optional(),
  allowedOrigin: z
    .array(
      z.string().regex(/^https?:\/\/[^\s/]+$/, 'expected an origin such as http://localhost:8233'),
    )
    .optional(),
  authToken: z.string().min(1).optional(),
});
export type CodecServerFlags = z.infer<typeof codecServerFlagsSchema>;

export const listFlagsSchema = commonFlagsSchema.extend({ json: z.boolean().optional() });
export type ListFlags = z.infer<typeof listFlagsSchema>;

export const installFlagsSchema = commonFlagsSchema.extend({ upgrade: z.boolean().optional() });
export type InstallFlags = z.infer<typeof installFlagsSchema>;

/** Maps a camelCase option name back to the flag a user typed. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Parses commander's option object; an issue names the flag, the value and what was expected. */
export function parseFlags<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;

  const lines = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const value = (raw as Record<string, unknown>)[key];
    const got = value === undefined ? '' : `, got ${JSON.stringify(value)}`;
    const flag =
      key === 'pluginDir' ? '--plugin-dir' : key === 'providers' ? '--providers' : flagName(key);
    return `${flag}: ${issue.message}${got}`;
  });
  throw new ConfigError(lines.join('\n'));
}
