/**
 * What crosses Temporal's history: scan plans, payload descriptors, activity inputs and
 * outcomes. Only references to content, never content; only small control data, never
 * large plugin results (those go to the blob store).
 *
 * Types only: this file is imported by workflow code and must stay free of runtime imports.
 */
import type { PayloadDescriptor, PayloadMeta, RequestMeta, StoqError } from '../model/schemas';

/** Activity settings of one plugin, resolved from its options (see config/plugin-options). */
export interface PluginActivityPlan {
  retryMaxAttempts: number;
  retryInitialIntervalMs: number;
  retryBackoff: number;
  retryMaxIntervalMs: number;
  startToCloseTimeoutMs: number;
  heartbeatTimeoutMs: number;
}

export interface PluginPlan {
  name: string;
  kinds: string[];
  requiredWorkers: string[];
  options: Record<string, unknown>;
  activity: PluginActivityPlan;
  /** Set when the options did not validate: running the plugin records this as an error. */
  invalid?: string;
}

/**
 * Everything a scan needs to know about configuration, resolved once by the client and
 * recorded in the scan workflow's input so that replays see the same configuration.
 */
export interface ScanPlan {
  dispatchers: string[];
  always_dispatch: string[];
  start_dispatch: string[];
  dest_archivers: string[];
  decorators: string[];
  connectors: string[];
  max_recursion: number;
  max_required_worker_depth: number;
  /** Every plugin known to the client, by name. */
  plugins: Record<string, PluginPlan>;
}

export interface ScanWorkflowInput {
  scan_id: string;
  /** ISO time the request was made (stoQ's `time`), set by the client. */
  time: string;
  root: PayloadDescriptor;
  request_meta: RequestMeta;
  plan: ScanPlan;
  /** A label for the UI and search: the root's file name when known. */
  filename?: string;
}

export interface ScanSummary {
  scan_id: string;
  /** Blob store document key of the stored StoqResponse. */
  response_key: string;
  payload_count: number;
  error_count: number;
  /** Workers that ran on any payload, sorted (for search attributes). */
  workers: string[];
  /** YARA rules that matched any payload, sorted. */
  yara_rules: string[];
  /** Set when the scan was cancelled: the stored response is partial. */
  cancelled?: boolean;
}

/** What a scan workflow answers to the `progress` query. */
export interface ScanProgress {
  scan_id: string;
  phase: 'scanning' | 'assembling' | 'decorating' | 'connecting' | 'done' | 'cancelled';
}

/** What a payload workflow answers to the `progress` query. */
export interface PayloadProgress {
  payload_id: string;
  phase: 'scanning' | 'archiving' | 'extracting' | 'done';
  workers_run: string[];
  running: string[];
  extracted: number;
}

/**
 * A payload workflow's input. The scan plan is not in it: the scan workflow stores the
 * plan once, and each payload workflow loads it, so no history grows with plan size
 * times payload count.
 */
export interface PayloadWorkflowInput {
  scan_id: string;
  request_meta: RequestMeta;
  payload: PayloadDescriptor;
  /** 0 for the root; extracted payloads are one deeper than what they came from. */
  depth: number;
  /** Sort key giving stoQ's results order (breadth first, extraction order). */
  order: string;
  isRoot: boolean;
  /**
   * Set by a retry: the payload was scanned before and its record is in the ledger; run
   * only these plugins again, keeping every other result.
   */
  resume?: ResumeSpec;
}

/** What a retry runs again on a payload whose plugins failed. */
export interface ResumeSpec {
  workers: string[];
  archivers: string[];
  dispatch: boolean;
}

/** One payload of a retry: its descriptor, place in the scan, and what to run again. */
export interface RetryEntry {
  payload: PayloadDescriptor;
  depth: number;
  order: string;
  resume: ResumeSpec;
}

export interface RetryWorkflowInput {
  /** The retry's own scan id. */
  scan_id: string;
  original_scan_id: string;
  time: string;
  plan: ScanPlan;
  /** Only these failed plugins run again; all failed ones when absent. */
  plugins?: string[];
}

export interface RetryChunkInput {
  scan_id: string;
  request_meta: RequestMeta;
  chunk: number;
}

export interface PayloadWorkflowResult {
  payload_id: string;
  /** Payloads scanned by this payload's subtree (itself included). */
  payload_count: number;
}

/** One extracted payload, as a worker activity hands it to the workflow. */
export interface ExtractedDescriptor {
  payload_id: string;
  sha256: string;
  size: number;
  payload_meta: PayloadMeta;
  /** Position among everything extracted from the parent by this worker. */
  index: number;
  /** The ledger already has this payload's record (scanned earlier in this scan, or copied by a retry). */
  recorded?: boolean;
}

/** Where a worker's extracted payloads were listed (chunks of the extraction ledger). */
export interface ExtractionListing {
  worker: string;
  count: number;
  chunks: number;
  /** The descriptors themselves when few enough to keep in history. */
  inline?: ExtractedDescriptor[];
}

export interface PluginCallBase {
  scan_id: string;
  request_meta: RequestMeta;
  payload: PayloadDescriptor;
  plugin: PluginPlan;
}

export interface DispatchInput {
  scan_id: string;
  request_meta: RequestMeta;
  payload: PayloadDescriptor;
  dispatchers: PluginPlan[];
  dispatch_meta: Record<string, Record<string, unknown>>;
  workers_run: string[];
}

export interface DispatchOutcome {
  /** Worker names asked for, by dispatcher. */
  dispatched: Record<string, string[]>;
  meta: Record<string, Record<string, unknown>>;
  errors: StoqError[];
}

export interface WorkerInput extends PluginCallBase {
  dispatch_meta: Record<string, Record<string, unknown>>;
  workers_run: string[];
}

export interface WorkerOutcome {
  dispatch_to: string[];
  errors: StoqError[];
  extracted?: ExtractionListing;
}

export interface ArchiverInput extends PluginCallBase {
  dispatch_meta: Record<string, Record<string, unknown>>;
  workers_run: string[];
}

export interface ArchiverOutcome {
  results: Record<string, unknown> | null;
  errors: StoqError[];
}

/** What the payload workflow records about its payload when it is done. */
export interface PayloadRecord {
  payload_id: string;
  sha256: string;
  size: number;
  depth: number;
  order: string;
  payload_meta: PayloadMeta;
  dispatch_meta: Record<string, Record<string, unknown>>;
  plugins_run: { workers: string[]; archivers: string[] };
  archivers: Record<string, unknown>;
  errors: StoqError[];
  /** Workers whose extraction listings exist in the ledger. */
  extracted_by_workers: string[];
}

export interface ReadChunkInput {
  scan_id: string;
  parent_payload_id: string;
  worker: string;
  chunk: number;
}

export interface FanoutWorkflowInput {
  scan_id: string;
  request_meta: RequestMeta;
  parent: { payload_id: string; depth: number; order: string };
  worker: string;
  chunk: number;
}

export interface FinishInput {
  scan_id: string;
  time: string;
  request_meta: RequestMeta;
  decorators: Record<string, unknown>;
  errors: StoqError[];
}

export interface DecoratorInput {
  scan_id: string;
  plugin: PluginPlan;
}

export interface DecoratorOutcome {
  results?: unknown;
  errors: StoqError[];
}

export interface ConnectorInput {
  scan_id: string;
  plugin: PluginPlan;
}
