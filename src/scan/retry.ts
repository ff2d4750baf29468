/**
 * Preparing a retry of a finished scan: the original's ledger is copied under the retry's
 * scan id (payload ids re-derived for the new scan, so the retry is a scan of its own),
 * and the payloads whose plugins failed are listed with what to run again on each.
 *
 * What succeeded is never run again: its results are copied. Workers, archivers and
 * dispatchers that failed run again on the payload they failed on. Decorators and
 * connectors work on the whole response, so they run again on the corrected one.
 */
import type { StoqError, StoqResponse } from '../model/schemas';
import type { PayloadRecord, RetryEntry, ScanPlan } from '../workflows/types';
import { payloadIdFor } from './ids';
import { ScanLedger } from './ledger';

export interface RetryPreparation {
  /** Chunks of payloads to resume, stored as `retry/<n>.json` in the retry's ledger. */
  chunks: number;
  payloads: number;
  /** Plugins being run again, by kind, for the summary and the UI. */
  plugins: string[];
  root_sha256: string;
  /** The original's request meta, with `extra_data.retry_of` naming the original scan. */
  request_meta: StoqResponse['request_meta'];
}

export class NothingToRetryError extends Error {}

/** Which failed plugins of one payload to run again. */
function failedOnPayload(
  record: PayloadRecord,
  plan: ScanPlan,
  only?: Set<string>,
): RetryEntry['resume'] {
  const failed = new Set(
    record.errors
      .map((error) => error.plugin_name)
      .filter((name): name is string => name !== null && (!only || only.has(name))),
  );
  const kindOf = (name: string) => plan.plugins[name]?.kinds ?? [];
  return {
    workers: [...failed].filter((name) => kindOf(name).includes('worker')),
    archivers: [...failed].filter(
      (name) => kindOf(name).includes('archiver') && record.plugins_run.archivers.includes(name),
    ),
    dispatch: [...failed].some((name) => kindOf(name).includes('dispatcher')),
  };
}

export async function prepareRetry(
  original: ScanLedger,
  retry: ScanLedger,
  plan: ScanPlan,
  only?: string[],
): Promise<RetryPreparation> {
  const response = await original.response();
  if (!response)
    throw new NothingToRetryError(`scan ${original.scanId} has no stored response to retry`);
  const records = await original.records();
  const idOf = (sha256: string) => payloadIdFor(retry.scanId, sha256);
  const newIds = new Map(records.map((record) => [record.payload_id, idOf(record.sha256)]));
  const filter = only && only.length > 0 ? new Set(only) : undefined;

  const entries: RetryEntry[] = [];
  const plugins = new Set<string>();
  for (const record of records) {
    const copied = await copyPayload(original, retry, record, newIds);
    const resume = failedOnPayload(record, plan, filter);
    if (resume.workers.length + resume.archivers.length === 0 && !resume.dispatch) continue;

    [...resume.workers, ...resume.archivers].forEach((name) => plugins.add(name));
    entries.push({
      payload: descriptorOf(copied),
      depth: record.depth,
      order: record.order,
      resume,
    });
  }
  for (const name of scanLevelFailures(response, filter)) plugins.add(name);
  if (plugins.size === 0) {
    const which = filter ? ` among ${[...filter].join(', ')}` : '';
    throw new NothingToRetryError(`scan ${original.scanId} has no failed plugins${which} to retry`);
  }

  return {
    chunks: await retry.putRetryEntries(entries),
    payloads: entries.length,
    plugins: [...plugins].sort(),
    root_sha256: records[0]?.sha256 ?? '',
    request_meta: {
      ...response.request_meta,
      extra_data: { ...response.request_meta.extra_data, retry_of: original.scanId },
    },
  };
}

/** Copies one payload's record, worker results and extraction listings under new ids. */
async function copyPayload(
  original: ScanLedger,
  retry: ScanLedger,
  record: PayloadRecord,
  newIds: Map<string, string>,
): Promise<PayloadRecord> {
  const rename = (id: string | null) => (id === null ? null : (newIds.get(id) ?? id));
  const payloadId = rename(record.payload_id)!;
  const copied: PayloadRecord = {
    ...record,
    payload_id: payloadId,
    errors: record.errors.map((error): StoqError => ({
      ...error,
      payload_id: rename(error.payload_id),
    })),
  };
  await retry.putRecord(copied);

  const results = await original.workerResults(record.payload_id, record.plugins_run.workers);
  for (const [worker, result] of Object.entries(results))
    await retry.putWorkerResult(payloadId, worker, result);

  for (const worker of record.extracted_by_workers) {
    const extracted = await original.extractedBy(record.payload_id, worker);
    const renamed = extracted.map((item) => ({ ...item, payload_id: rename(item.payload_id)! }));
    await retry.putExtractedListing(payloadId, worker, renamed);
  }
  return copied;
}

function descriptorOf(record: PayloadRecord): RetryEntry['payload'] {
  return {
    payload_id: record.payload_id,
    sha256: record.sha256,
    size: record.size,
    payload_meta: record.payload_meta,
    extracted_by: [],
    extracted_from: [],
  };
}

/** Decorators and connectors that failed: they run again on the corrected response anyway. */
function scanLevelFailures(response: StoqResponse, only?: Set<string>): string[] {
  return response.errors
    .filter((error) => error.payload_id === null && error.plugin_name !== null)
    .map((error) => error.plugin_name!)
    .filter((name) => !only || only.has(name));
}
