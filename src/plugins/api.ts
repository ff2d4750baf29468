/**
 * The plugin API: what a plugin author writes against.
 *
 * A plugin is one module that exports one definition made with {@link definePlugin}. It
 * declares its metadata, the kinds it implements (one plugin may be worker, archiver and
 * connector at once, as stoQ's `filedir`), and a zod schema for its options. The framework
 * validates options, then calls `create` once per distinct set of options in each worker
 * process and reuses the instance across scans.
 *
 * @example
 * ```ts
 * export default definePlugin({
 *   name: 'size',
 *   version: '1.0.0',
 *   description: 'Reports the payload size in KiB',
 *   kinds: ['worker'],
 *   options: z.object({ round: z.boolean().default(true) }),
 *   create: (options) => ({
 *     worker: {
 *       async scan(payload) {
 *         const kib = payload.size / 1024;
 *         return { results: { kib: options.round ? Math.round(kib) : kib } };
 *       },
 *     },
 *   }),
 * });
 * ```
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { z } from 'zod';
import type {
  JsonObject,
  PayloadMeta,
  PayloadResults,
  RequestMeta,
  StoqResponse,
} from '../model/schemas';
import type { BlobStore } from '../blobstore/types';

/** The framework's zod: plugins in their own directories build option schemas with it. */
export { z };

export const PLUGIN_KINDS = [
  'worker',
  'dispatcher',
  'provider',
  'archiver',
  'connector',
  'decorator',
] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** A payload as a plugin sees it. Bytes come from the blob store only when read. */
export interface Payload {
  readonly payload_id: string;
  readonly sha256: string;
  readonly size: number;
  /** This payload's results so far: meta, lineage, and the workers that already ran. */
  readonly results: PayloadResults;
  /** Each dispatcher's `meta` for this payload, keyed by dispatcher name. */
  readonly dispatch_meta: Record<string, JsonObject>;
  /** The whole content. Refuses payloads larger than `maxBytes` (default 256 MiB). */
  bytes(options?: { maxBytes?: number }): Promise<Buffer>;
  /** The content as a stream; prefer this for large payloads. */
  stream(): Readable;
  /** A local file holding the content, for tools that only take a path. Read-only. */
  filePath(): Promise<string>;
}

/** The request a payload belongs to, as stoQ v3 passes it to plugins. */
export interface RequestView {
  readonly scan_id: string;
  readonly request_meta: RequestMeta;
  /** Results of the payloads of this scan known so far (read on demand). */
  results(): Promise<PayloadResults[]>;
  /**
   * Aborts when the scan is cancelled or the plugin's time is up. Long-running plugins
   * should pass it on (to fetch, child processes) or check it between steps.
   */
  readonly signal?: AbortSignal;
}

/** Content handed back by a worker or a provider: bytes in memory or a stream. */
export type PayloadContent = Buffer | Uint8Array | Readable;

export interface ExtractedPayload {
  content: PayloadContent;
  payload_meta?: Partial<PayloadMeta>;
}

export interface WorkerResult {
  results?: unknown;
  extracted?: ExtractedPayload[];
  errors?: string[];
  dispatch_to?: string[];
}

export interface DispatcherResult {
  plugin_names?: string[];
  meta?: JsonObject;
  errors?: string[];
}

export interface ArchiverResult {
  /** What the archiver needs to fetch the payload back later (its `get`). */
  results?: JsonObject | null;
  errors?: string[];
}

export interface DecoratorResult {
  results?: unknown;
  errors?: string[];
}

export interface WorkerHooks {
  scan(payload: Payload, request: RequestView): Promise<WorkerResult | void>;
}

export interface DispatcherHooks {
  dispatch(payload: Payload, request: RequestView): Promise<DispatcherResult | void>;
}

export interface ArchiverHooks {
  /** Destination archiver: store the payload, return how to find it again. */
  archive?(payload: Payload, request: RequestView): Promise<ArchiverResult | void>;
  /** Source archiver: fetch content back from what `archive` (or a provider) returned. */
  get?(task: JsonObject): Promise<PayloadContent>;
}

export interface ConnectorHooks {
  save(response: StoqResponse): Promise<void>;
}

export interface DecoratorHooks {
  decorate(response: StoqResponse): Promise<DecoratorResult | void>;
}

/** One item a provider emits: content to scan, or a task for a source archiver to fetch. */
export type ProviderItem =
  | {
      content: PayloadContent;
      payload_meta?: Partial<PayloadMeta>;
      request_meta?: Partial<RequestMeta>;
      /** Stable id of the source message; re-delivery with the same id never scans twice. */
      request_id?: string;
    }
  | {
      archived: JsonObject;
      payload_meta?: Partial<PayloadMeta>;
      request_meta?: Partial<RequestMeta>;
      request_id?: string;
    };

export interface ProviderSink {
  /**
   * Submits one item. Resolves only once Temporal accepted the scan workflow start, so a
   * provider acknowledges its source after `await sink.put(item)` and loses nothing.
   */
  put(item: ProviderItem): Promise<void>;
}

export interface ProviderHooks {
  /** Feeds the sink until the source is exhausted or `signal` aborts. */
  ingest(sink: ProviderSink, signal: AbortSignal): Promise<void>;
}

/** What a plugin implements; one entry per declared kind. */
export interface PluginInstance {
  worker?: WorkerHooks;
  dispatcher?: DispatcherHooks;
  archiver?: ArchiverHooks;
  connector?: ConnectorHooks;
  decorator?: DecoratorHooks;
  provider?: ProviderHooks;
  /** Releases what `create` acquired (connections, compiled rules). */
  close?(): Promise<void>;
}

export interface PluginSetupContext {
  logger: Logger;
  /** The stoQ home directory (default `~/.stoq`). */
  stoqHome: string;
  /** Where the plugin's manifest lives, for paths relative to the plugin. */
  pluginDir?: string;
  blobStore: BlobStore;
}

// The schema stays a plain zod type so plugin authors can use any zod object they like.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OptionsSchema = z.ZodType<any, any>;

export interface PluginDefinition<S extends OptionsSchema = OptionsSchema> {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Lowest framework version the plugin works with (semver). */
  readonly minStoqVersion?: string;
  readonly kinds: readonly PluginKind[];
  readonly options: S;
  /** Workers that must run on a payload before this worker does (worker kind only). */
  readonly requiredWorkers?: readonly string[];
  create(
    options: z.output<S>,
    context: PluginSetupContext,
  ): PluginInstance | Promise<PluginInstance>;
}

const PLUGIN_MARK = Symbol.for('stoq.plugin-definition');
const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/i;

/** Declares a plugin. Throws at load time when the declaration itself is malformed. */
export function definePlugin<S extends OptionsSchema>(
  definition: PluginDefinition<S>,
): PluginDefinition<S> {
  if (!NAME_PATTERN.test(definition.name)) {
    throw new Error(`plugin name "${definition.name}" must match ${NAME_PATTERN}`);
  }
  if (definition.kinds.length === 0) {
    throw new Error(`plugin "${definition.name}" declares no kinds`);
  }
  for (const kind of definition.kinds) {
    if (!PLUGIN_KINDS.includes(kind)) {
      throw new Error(`plugin "${definition.name}" declares unknown kind "${kind}"`);
    }
  }
  return Object.freeze(Object.assign(Object.create(null), definition, { [PLUGIN_MARK]: true }));
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return typeof value === 'object' && value !== null && PLUGIN_MARK in value;
}

/**
 * A failure a plugin raises on purpose. `retryable: false` tells the framework that
 * trying again cannot help (bad input, a malformed file): the error is recorded at once.
 */
export class PluginError extends Error {
  readonly retryable: boolean;

  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'PluginError';
    this.retryable = options.retryable ?? true;
  }
}

/** Shorthand for a non-retryable failure caused by the payload itself. */
export function badInput(message: string, cause?: unknown): PluginError {
  return new PluginError(message, { retryable: false, cause });
}
