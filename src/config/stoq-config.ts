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

export const blobStoreSectionSchema = z
  .object({
    kind: z.enum(['filesystem']).default('filesystem'),
    root: z.string().optional(),
  })
  .strict();

export interface StoqConfig {
  home: string;
  core: CoreConfig;
  temporal: TemporalConfig;
  blobstore: { kind: 'filesystem'; root: string };
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
  const blobSection = validateSection(
    blobStoreSectionSchema,
    sections.blobstore ?? {},
    `${where} [blobstore]`,
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
    blobstore: { kind: blobSection.kind, root: blobSection.root ?? join(options.home, 'blobs') },
    codec,
    pluginSections,
    source: options.source,
  };
}

function validateSection<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
  options: { quoteValues: boolean } = { quoteValues: true },
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      describeZodIssues(where, parsed.error, options.quoteValues ? input : undefined),
    );
  }
  return parsed.data;
}
