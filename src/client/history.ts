/**
 * Finding past scans through Temporal's visibility store: the list filter language over
 * stoQ's search attributes (see workflows/search-attributes). Used by `stoq history`; the
 * query strings are the ones a user could type into the Web UI.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { chunked } from '../chunked';
import {
  keywordValue,
  StoqFilename,
  StoqHasErrors,
  StoqPayloadCount,
  StoqScanId,
  StoqSource,
} from '../workflows/search-attributes';

export const SCAN_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type ScanStatusFilter = (typeof SCAN_STATUSES)[number];

/** What `stoq history` filters on; every field is optional and they combine with AND. */
export interface HistoryFilter {
  /** Root or extracted payload hash; lowercase hex. */
  sha256?: string;
  filename?: string;
  source?: string;
  hasErrors?: boolean;
  since?: Date;
  until?: Date;
  worker?: string;
  yaraRule?: string;
  status?: ScanStatusFilter;
}

/** One scan as `stoq history --json` prints it. */
export interface ScanListing {
  scan_id: string;
  status: string;
  start_time: string;
  close_time: string | null;
  filename: string | null;
  source: string | null;
  payload_count: number | null;
  has_errors: boolean | null;
}

const EXECUTION_STATUS: Record<ScanStatusFilter, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  // Temporal's spelling.
  cancelled: 'Canceled',
};

/** Scan ids per query when the hash search hands them over as `WorkflowId IN (...)`. */
const IDS_PER_QUERY = 100;

/**
 * A string literal of the visibility query language. Single quotes are doubled and
 * backslashes escaped, so no value can end the literal early or add a clause.
 */
export function quoteValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The query of the workflows (scans and payloads alike) that saw this SHA-256. */
export function sha256Query(sha256: string): string {
  return `StoqSha256 = ${quoteValue(sha256.toLowerCase())}`;
}

/**
 * The query of the scan workflows matching a filter, except its hash: the hash lives on
 * payload workflows too and is resolved to scan ids first ({@link listScans}).
 */
export function scanQuery(filter: Omit<HistoryFilter, 'sha256'>, scanIds?: string[]): string {
  const clauses = [`WorkflowType = 'scanWorkflow'`];
  if (scanIds) clauses.push(`WorkflowId IN (${scanIds.map(quoteValue).join(', ')})`);
  if (filter.filename !== undefined)
    clauses.push(`StoqFilename = ${quoteValue(keywordValue(filter.filename))}`);
  if (filter.source !== undefined) clauses.push(`StoqSource = ${quoteValue(filter.source)}`);
  if (filter.hasErrors !== undefined) clauses.push(`StoqHasErrors = ${String(filter.hasErrors)}`);
  if (filter.since) clauses.push(`StartTime >= ${quoteValue(filter.since.toISOString())}`);
  if (filter.until) clauses.push(`StartTime <= ${quoteValue(filter.until.toISOString())}`);
  if (filter.worker !== undefined) clauses.push(`StoqWorkers = ${quoteValue(filter.worker)}`);
  if (filter.yaraRule !== undefined) clauses.push(`StoqYaraRules = ${quoteValue(filter.yaraRule)}`);
  if (filter.status) clauses.push(`ExecutionStatus = '${EXECUTION_STATUS[filter.status]}'`);
  return clauses.join(' AND ');
}

const DURATION_UNITS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * `--since`/`--until`: an ISO 8601 time, or a duration back from `now` (`90m`, `24h`, `7d`).
 * Returns undefined for anything else, so the caller can name the flag in its error.
 */
export function parseTimeBound(value: string, now = new Date()): Date | undefined {
  const duration = /^(\d{1,6})([smhdw])$/.exec(value.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * DURATION_UNITS[duration[2]]);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;

  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/**
 * The scans matching a filter, newest first, at most `limit`. With a hash, the workflows
 * that saw it (the scan of a root, the payload workflow of an extracted payload) are
 * mapped to their scan ids first; the scans are then listed with the other filters.
 */
// TODO(history): the SQL visibility stores of the dev server and of most clusters take no
// ORDER BY; they list open scans first, then by close time. Sorting by start time happens
// here, over the first `limit` the server hands back, so a much older open scan can push a
// newer closed one out of a short list. --since narrows that down.
export async function listScans(
  client: Client,
  filter: HistoryFilter,
  limit: number,
): Promise<ScanListing[]> {
  const listings: ScanListing[] = [];
  const queries =
    filter.sha256 === undefined
      ? [scanQuery(filter)]
      : chunked(await scanIdsWithSha256(client, filter.sha256), IDS_PER_QUERY).map((ids) =>
          scanQuery(filter, ids),
        );

  for (const query of queries) {
    for await (const execution of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
      listings.push(listingOf(execution));
      if (listings.length >= limit) break;
    }
    if (listings.length >= limit) break;
  }
  return listings.sort((a, b) => b.start_time.localeCompare(a.start_time));
}

/** How many workflows a hash search reads at most before it stops looking. */
const MAX_HASH_MATCHES = 10_000;

/** The scans whose root or any extracted payload had this hash, without duplicates. */
export async function scanIdsWithSha256(client: Client, sha256: string): Promise<string[]> {
  const scanIds = new Set<string>();
  let seen = 0;
  for await (const execution of client.workflow.list({ query: sha256Query(sha256) })) {
    scanIds.add(scanIdOf(execution));
    if (++seen >= MAX_HASH_MATCHES) break;
  }
  return [...scanIds];
}

/** A payload workflow carries its scan's id; a scan workflow's id is the scan id. */
export function scanIdOf(
  execution: Pick<WorkflowExecutionInfo, 'workflowId' | 'type' | 'typedSearchAttributes'>,
): string {
  if (execution.type === 'scanWorkflow') return execution.workflowId;
  const attribute = execution.typedSearchAttributes.get(StoqScanId);
  if (attribute) return attribute;
  const marker = execution.workflowId.indexOf('/payload/');
  return marker > 0 ? execution.workflowId.slice(0, marker) : execution.workflowId;
}

export function listingOf(execution: WorkflowExecutionInfo): ScanListing {
  const attributes = execution.typedSearchAttributes;
  return {
    scan_id: execution.workflowId,
    status: statusName(execution.status.name),
    start_time: execution.startTime.toISOString(),
    close_time: execution.closeTime?.toISOString() ?? null,
    filename: attributes.get(StoqFilename) ?? null,
    source: attributes.get(StoqSource) ?? null,
    payload_count: attributes.get(StoqPayloadCount) ?? null,
    has_errors: attributes.get(StoqHasErrors) ?? null,
  };
}

/** `TIMED_OUT` -> `timed out`: the SDK's status names, as the CLI prints them. */
export function statusName(name: string): string {
  return name.toLowerCase().replace(/_/g, ' ');
}
