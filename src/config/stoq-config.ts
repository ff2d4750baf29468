/**
 * `stoq.cfg`: stoQ's INI configuration file, with stoQ v3's `[core]` key names, a
 * `[temporal]` section for the connection, a `[blobstore]` section, and one section per
 * plugin holding that plugin's options.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseIni } from 'ini';
import { z } from 'zod';
import type { BlobStoreConfig } from '../blobstore';
import { codecConfigSchema, type CodecConfig } from '../temporal/codec';
import { ConfigError, describeZodIssues } from './errors';

/** Comma-separated list in INI, as stoQ writes `dispatchers = yara, filetype`. */
const list = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(','))
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const integer = (min: number) => z.coerce.number().int().min(min);

const boolean = z
  .union([z.boolean(), z.enum(['true', 'false', 'yes', 'no', '1', '0'])])
  .transform((value) => value === true || value === 'true' || value === 'yes' || value === '1');

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const coreConfigSchema = z
  .object({
    max_recursion: integer(0).default(3),
    max_required_worker_depth: integer(1).default(10),
    always_dispatch: list.default([]),
    dispatchers: list.default([]),
    connectors: list.default([]),
    dest_archivers: list.default([]),
    source_archivers: list.default([]),
    decorators: list.default([]),
    providers: list.default([]),
    plugin_dir_list: list.default([]),
    log_level: z.enum(LOG_LEVELS).default('info'),
    max_queue: integer(1).default(100),
    provider_consumers: integer(1).default(2),
  })
  .strict();
export type CoreConfig = z.infer<typeof coreConfigSchema>;

export const temporalConfigSchema = z
  .object({
    address: z.string().min(1).optional(),
    namespace: z.string().min(1).default('default'),
    task_queue: z.string().min(1).default('stoq'),
    tls: boolean.default(false),
    tls_server_name: z.string().optional(),
    tls_ca_path: z.string().optional(),
    tls_cert_path: z.string().optional(),
    tls_key_path: z.string().optional(),
    api_key: z.string().optional(),
    profile: z.string().optional(),
    history_retention_days: integer(1).default(30),
  })
  .strict();
export type TemporalConfig = z.infer<typeof temporalConfigSchema>;

const S3_KEYS = [
  'bucket',
  'prefix',
  'endpoint',
  'region',
  'force_path_style',
  'access_key_id',
  'secret_access_key',
  'cache_dir',
] as const;

export const blobStoreSectionSchema = z
  .object({
    kind: z.enum(['filesystem', 's3']).default('filesystem'),
    root: z.string().min(1).optional(),
    bucket: z.string().min(1).optional(),
    prefix: z.string().optional(),
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    region: z.string().min(1).optional(),
    force_path_style: boolean.optional(),
    access_key_id: z.string().min(1).optional(),
    secret_access_key: z.string().min(1).optional(),
    cache_dir: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((section, ctx) => {
    const misplaced = (key: string, kind: string) =>
      ctx.addIssue({ code: 'custom', path: [key], message: `applies only to kind = ${kind}` });

    if (section.kind === 'filesystem') {
      for (const key of S3_KEYS) if (section[key] !== undefined) misplaced(key, 's3');
      return;
    }
    if (section.root !== undefined) misplaced('root', 'filesystem');
    if (section.bucket === undefined) {
      ctx.addIssue({ code: 'custom', path: ['bucket'], message: 'required with kind = s3' });
    }
    if ((section.access_key_id === undefined) !== (section.secret_access_key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret_access_key'],
        message: 'access_key_id and secret_access_key go together: set both or neither',
      });
    }
  });
type BlobStoreSection = z.output<typeof blobStoreSectionSchema>;

export interface StoqConfig {
  home: string;
  core: CoreConfig;
  temporal: TemporalConfig;
  /** What openBlobStore() takes; the s3 kind may hold a secret key, so never log it whole. */
  blobstore: BlobStoreConfig;
  /** The payload codec of the client and the workers (`[codec]`); may hold key material. */
  codec: CodecConfig;
  /** Raw option values per plugin section, as written (strings from INI). */
  pluginSections: Record<string, Record<string, unknown>>;
  /** The file read, when there was one. */
  source?: string;
}

const RESERVED_SECTIONS = new Set(['core', 'temporal', 'blobstore', 'codec']);

/** `$STOQ_HOME`, else `~/.stoq`. */
export function stoqHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(
    env.STOQ_HOME && env.STOQ_HOME.length > 0 ? env.STOQ_HOME : join(homedir(), '.stoq'),
  );
}

/**
 * Reads `stoq.cfg` (an explicit path, or `<home>/stoq.cfg` when present) and validates
 * every section. Throws {@link ConfigError} naming the section, key and value at fault.
 */
export function loadStoqConfig(options: { home?: string; configFile?: string } = {}): StoqConfig {
  const home = options.home ?? stoqHome();
  const source = options.configFile ?? join(home, 'stoq.cfg');
  const explicit = options.configFile !== undefined;

  if (explicit && !existsSync(source)) {
    throw new ConfigError(`config file ${source} does not exist`);
  }
  const text = existsSync(source) ? readFileSync(source, 'utf8') : '';
  return parseStoqConfig(text, { home, source: text ? source : undefined });
}

export function parseStoqConfig(
  text: string,
  options: { home: string; source?: string },
): StoqConfig {
  const where = options.source ?? 'stoq.cfg';
  const sections = parseIni(text) as Record<string, unknown>;
  const loose = Object.entries(sections).filter(([, value]) => typeof value !== 'object');
  if (loose.length > 0) {
    throw new ConfigError(`${where}: key "${loose[0][0]}" is outside any [section]`);
  }

  const core = validateSection(coreConfigSchema, sections.core ?? {}, `${where} [core]`);
  const temporal = validateSection(
    temporalConfigSchema,
    sections.temporal ?? {},
    `${where} [temporal]`,
  );
  // Issues quote what was found, except the credentials.
  const blobSection = validateSection(
    blobStoreSectionSchema,
    sections.blobstore ?? {},
    `${where} [blobstore]`,
    { quoteValues: true, redactKeys: ['access_key_id', 'secret_access_key'] },
  );
  // The section may hold keys: issues name the key and never quote what was found.
  const codec = validateSection(codecConfigSchema, sections.codec ?? {}, `${where} [codec]`, {
    quoteValues: false,
  });

  const pluginSections: Record<string, Record<string, unknown>> = {};
  for (const [name, body] of Object.entries(sections)) {
    if (!RESERVED_SECTIONS.has(name)) pluginSections[name] = body as Record<string, unknown>;
  }

  return {
    home: options.home,
    core,
    temporal,
    blobstore: blobStoreConfig(blobSection, options.home),
    codec,
    pluginSections,
    source: options.source,
  };
}

/** The section's snake_case keys as openBlobStore()'s config; absent keys stay absent. */
function blobStoreConfig(section: BlobStoreSection, home: string): BlobStoreConfig {
  if (section.kind === 'filesystem') {
    return { kind: 'filesystem', root: section.root ?? join(home, 'blobs') };
  }

  const optional = {
    prefix: section.prefix,
    endpoint: section.endpoint,
    region: section.region,
    forcePathStyle: section.force_path_style,
    accessKeyId: section.access_key_id,
    secretAccessKey: section.secret_access_key,
    cacheDir: section.cache_dir,
  };
  const present = Object.entries(optional).filter(([, value]) => value !== undefined);
  return { kind: 's3', bucket: section.bucket!, ...Object.fromEntries(present) };
}

function validateSection<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
  options: { quoteValues: boolean; redactKeys?: readonly string[] } = { quoteValues: true },
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const quotable = options.quoteValues ? withoutKeys(input, options.redactKeys ?? []) : undefined;
    throw new ConfigError(describeZodIssues(where, parsed.error, quotable));
  }
  return parsed.data;
}

function withoutKeys(input: unknown, keys: readonly string[]): unknown {
  if (keys.length === 0 || input === null || typeof input !== 'object') return input;
  return Object.fromEntries(Object.entries(input).filter(([key]) => !keys.includes(key)));
}
