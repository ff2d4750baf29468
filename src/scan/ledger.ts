/**
 * The scan ledger: a scan's documents in the blob store. Worker results, extraction
 * listings and payload records are written here by activities, so Temporal's history
 * carries only control data; the response is assembled from here at the end.
 *
 *   scans/<scan>/payloads/<payload>.json             what the payload workflow recorded
 *   scans/<scan>/workers/<payload>/<worker>.json     one worker's results
 *   scans/<scan>/extracted/<payload>/<worker>/<n>.json  one chunk of a worker's extractions
 *   scans/<scan>/retry/<n>.json                      one chunk of the payloads a retry resumes
 *   scans/<scan>/plan.json                           the plan the scan runs with
 *   scans/<scan>/response.json                       the final StoqResponse
 */
import type { BlobStore } from '../blobstore/types';
import type { StoqResponse } from '../model/schemas';
import { chunked } from '../chunked';
import type { ExtractedDescriptor, PayloadRecord, RetryEntry, ScanPlan } from '../workflows/types';

/** Extractions per ledger chunk: one fan-out workflow starts this many payload workflows. */
export const EXTRACTION_CHUNK_SIZE = 500;

export class ScanLedger {
  constructor(
    private readonly store: BlobStore,
    readonly scanId: string,
  ) {}

  private key(...parts: string[]): string {
    return ['scans', this.scanId, ...parts].join('/');
  }

  async putWorkerResult(payloadId: string, worker: string, results: unknown): Promise<void> {
    await this.store.putDocument(
      this.key('workers', payloadId, `${worker}.json`),
      toJson({ results }),
    );
  }

  async workerResults(
    payloadId: string,
    workers?: readonly string[],
  ): Promise<Record<string, unknown>> {
    const prefix = this.key('workers', payloadId);
    const keys = workers
      ? workers.map((worker) => `${prefix}/${worker}.json`)
      : await this.store.listDocuments(prefix);

    const results: Record<string, unknown> = {};
    for (const key of keys) {
      const body = await this.store.getDocument(key);
      if (body === undefined) continue;
      const worker = key.slice(prefix.length + 1, -'.json'.length);
      results[worker] = (JSON.parse(body) as { results: unknown }).results;
    }
    return results;
  }

  /**
   * Lists everything a worker extracted from a payload, in chunks of
   * {@link EXTRACTION_CHUNK_SIZE}; returns how many chunks were written.
   */
  async putExtractedListing(
    payloadId: string,
    worker: string,
    items: ExtractedDescriptor[],
  ): Promise<number> {
    const chunks = chunked(items, EXTRACTION_CHUNK_SIZE);
    for (const [chunk, slice] of chunks.entries()) {
      await this.store.putDocument(
        this.key('extracted', payloadId, worker, `${chunk}.json`),
        toJson(slice),
      );
    }
    return chunks.length;
  }

  async extractedChunk(
    payloadId: string,
    worker: string,
    chunk: number,
  ): Promise<ExtractedDescriptor[]> {
    const body = await this.store.getDocument(
      this.key('extracted', payloadId, worker, `${chunk}.json`),
    );
    if (body === undefined)
      throw new Error(`extraction chunk ${chunk} of ${worker} on ${payloadId} is missing`);
    return JSON.parse(body) as ExtractedDescriptor[];
  }

  /** Every extraction a worker made from a payload, in extraction order. */
  async extractedBy(payloadId: string, worker: string): Promise<ExtractedDescriptor[]> {
    const prefix = this.key('extracted', payloadId, worker);
    const keys = await this.store.listDocuments(prefix);
    const chunkOf = (key: string) => Number(key.slice(prefix.length + 1, -'.json'.length));
    const all: ExtractedDescriptor[] = [];
    for (const key of keys.sort((a, b) => chunkOf(a) - chunkOf(b))) {
      all.push(
        ...(JSON.parse((await this.store.getDocument(key)) ?? '[]') as ExtractedDescriptor[]),
      );
    }
    return all;
  }

  async putRecord(record: PayloadRecord): Promise<void> {
    await this.store.putDocument(this.key('payloads', `${record.payload_id}.json`), toJson(record));
  }

  async record(payloadId: string): Promise<PayloadRecord | undefined> {
    const body = await this.store.getDocument(this.key('payloads', `${payloadId}.json`));
    return body === undefined ? undefined : (JSON.parse(body) as PayloadRecord);
  }

  async records(): Promise<PayloadRecord[]> {
    const keys = await this.store.listDocuments(this.key('payloads'));
    const records: PayloadRecord[] = [];
    for (const key of keys) {
      const body = await this.store.getDocument(key);
      if (body !== undefined) records.push(JSON.parse(body) as PayloadRecord);
    }
    return records.sort(byScanOrder);
  }

  async putPlan(plan: ScanPlan): Promise<void> {
    await this.store.putDocument(this.key('plan.json'), toJson(plan));
  }

  async plan(): Promise<ScanPlan> {
    const body = await this.store.getDocument(this.key('plan.json'));
    if (body === undefined) throw new Error(`scan ${this.scanId} has no stored plan`);
    return JSON.parse(body) as ScanPlan;
  }

  /** A retry's payloads to resume, in chunks; returns how many chunks were written. */
  async putRetryEntries(entries: RetryEntry[]): Promise<number> {
    const chunks = chunked(entries, EXTRACTION_CHUNK_SIZE);
    for (const [chunk, slice] of chunks.entries()) {
      await this.store.putDocument(this.key('retry', `${chunk}.json`), toJson(slice));
    }
    return chunks.length;
  }

  async retryEntries(chunk: number): Promise<RetryEntry[] | undefined> {
    const body = await this.store.getDocument(this.key('retry', `${chunk}.json`));
    return body === undefined ? undefined : (JSON.parse(body) as RetryEntry[]);
  }

  responseKey(): string {
    return this.key('response.json');
  }

  async putResponse(response: StoqResponse): Promise<void> {
    await this.store.putDocument(this.responseKey(), toJson(response));
  }

  async response(): Promise<StoqResponse | undefined> {
    const body = await this.store.getDocument(this.responseKey());
    return body === undefined ? undefined : (JSON.parse(body) as StoqResponse);
  }
}

/** stoQ's order: breadth first by extraction depth, then in extraction order. */
export function byScanOrder(a: PayloadRecord, b: PayloadRecord): number {
  if (a.depth !== b.depth) return a.depth - b.depth;
  return a.order < b.order ? -1 : a.order > b.order ? 1 : 0;
}

/** JSON that never fails on what plugins commonly return (Buffers, BigInts, Maps, Sets). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return item.toString();
    if (item instanceof Map) return Object.fromEntries(item);
    if (item instanceof Set) return [...item];
    if (isSerializedBuffer(item)) return Buffer.from(item.data).toString('hex');
    return item;
  });
}

function isSerializedBuffer(item: unknown): item is { type: 'Buffer'; data: number[] } {
  return (
    typeof item === 'object' &&
    item !== null &&
    (item as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((item as { data?: unknown }).data)
  );
}
