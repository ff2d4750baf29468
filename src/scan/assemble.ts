/**
 * Builds stoQ's response from the scan ledger: one PayloadResults per recorded payload,
 * in scan order, with lineage merged from every extraction (duplicates included, as stoQ
 * appends `extracted_by` / `extracted_from` when it sees known content again).
 */
import type { PayloadResults, RequestMeta, StoqError, StoqResponse } from '../model/schemas';
import type { PayloadRecord } from '../workflows/types';
import type { ScanLedger } from './ledger';

export interface AssembleOptions {
  time: string;
  request_meta: RequestMeta;
  decorators?: Record<string, unknown>;
  errors?: StoqError[];
}

export async function assembleResults(
  ledger: ScanLedger,
  records: PayloadRecord[],
): Promise<PayloadResults[]> {
  const lineage = await collectLineage(ledger, records);

  const results: PayloadResults[] = [];
  for (const record of records) {
    const edges = lineage.get(record.payload_id) ?? [];
    results.push({
      payload_id: record.payload_id,
      size: record.size,
      payload_meta: record.payload_meta,
      extracted_from: edges.map((edge) => edge.from),
      extracted_by: edges.map((edge) => edge.by),
      workers: await ledger.workerResults(record.payload_id, record.plugins_run.workers),
      plugins_run: record.plugins_run,
      archivers: record.archivers,
    });
  }
  return results;
}

export async function assembleResponse(
  ledger: ScanLedger,
  options: AssembleOptions,
): Promise<StoqResponse> {
  const records = await ledger.records();
  const results = await assembleResults(ledger, records);
  return {
    scan_id: ledger.scanId,
    time: options.time,
    results,
    request_meta: options.request_meta,
    errors: [...records.flatMap((record) => record.errors), ...(options.errors ?? [])],
    decorators: options.decorators ?? {},
  };
}

async function collectLineage(
  ledger: ScanLedger,
  records: PayloadRecord[],
): Promise<Map<string, { from: string; by: string }[]>> {
  const lineage = new Map<string, { from: string; by: string }[]>();
  for (const record of records) {
    for (const worker of record.extracted_by_workers) {
      for (const extracted of await ledger.extractedBy(record.payload_id, worker)) {
        const edges = lineage.get(extracted.payload_id) ?? [];
        edges.push({ from: record.payload_id, by: worker });
        lineage.set(extracted.payload_id, edges);
      }
    }
  }
  return lineage;
}
