/**
 * The ingest loop of `stoq run`: the {@link ProviderSink} providers feed. Each item becomes
 * one scan workflow; `put` resolves once Temporal accepted the start, so a provider that
 * acknowledges its source after `await sink.put(item)` loses nothing.
 *
 * Two bounds: `maxQueue` scans in flight (started, not yet finished) and `consumers`
 * starts in parallel (blob upload plus workflow start).
 */
import { nameBasedUuid } from '../scan/ids';
import type { Client } from '@temporalio/client';
import type { BlobStore } from '../blobstore/types';
import { submitScan, type SubmittedScan } from '../client/submit';
import type { Logger } from '../log';
import type { RequestMeta } from '../model/schemas';
import type { ArchiverHooks, PayloadContent, ProviderItem, ProviderSink } from '../plugins/api';
import type { ScanPlan } from '../workflows/types';

/** A counting semaphore: `acquire` waits while `limit` holders are in. */
export class Semaphore {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot straight to the next waiter, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }
}

/**
 * The scan id of a provider message: the same request id always gives the same scan id, so
 * a re-delivered message joins (or finds) the scan already made instead of starting another.
 * Shaped like a UUID (version 8, name-based).
 */
export function scanIdForRequest(requestId: string): string {
  return nameBasedUuid(`stoq-request:${requestId}`);
}

export interface IngestStats {
  submitted: number;
  /** Starts that found the scan of the same request id already there. */
  duplicates: number;
  completed: number;
  failed: number;
  inFlight: number;
  startedAt: number;
}

export interface SourceArchiver {
  name: string;
  hooks: ArchiverHooks;
}

export interface IngestOptions {
  client: Client;
  blobStore: BlobStore;
  taskQueue: string;
  plan: ScanPlan;
  /** Request meta from the flags; an item's own request meta is merged over it. */
  requestMeta: Partial<RequestMeta>;
  sourceArchivers: SourceArchiver[];
  maxQueue: number;
  consumers: number;
  logger: Logger;
  /** Called with each scan that finished (to print its response). */
  onCompleted?(scanId: string): Promise<void>;
}

export class IngestLoop implements ProviderSink {
  readonly stats: IngestStats = {
    submitted: 0,
    duplicates: 0,
    completed: 0,
    failed: 0,
    inFlight: 0,
    startedAt: Date.now(),
  };
  private readonly queue: Semaphore;
  private readonly starts: Semaphore;
  private readonly scans = new Set<Promise<void>>();
  private readonly puts = new Set<Promise<void>>();

  constructor(private readonly options: IngestOptions) {
    this.queue = new Semaphore(options.maxQueue);
    this.starts = new Semaphore(options.consumers);
  }

  put(item: ProviderItem): Promise<void> {
    const put = this.submit(item);
    this.puts.add(put);
    void put.finally(() => this.puts.delete(put)).catch(() => undefined);
    return put;
  }

  private async submit(item: ProviderItem): Promise<void> {
    await this.queue.acquire();
    let submitted: SubmittedScan;
    try {
      submitted = await this.start(item);
    } catch (error) {
      this.queue.release();
      throw error;
    }

    this.stats.submitted++;
    if (submitted.existing) this.stats.duplicates++;
    this.track(submitted);
  }

  private async start(item: ProviderItem): Promise<SubmittedScan> {
    await this.starts.acquire();
    try {
      const content = 'content' in item ? item.content : await this.fetch(item.archived);
      const base = this.options.requestMeta;
      const requestMeta = {
        ...base,
        ...item.request_meta,
        extra_data: { ...base.extra_data, ...item.request_meta?.extra_data },
      };
      const filename = item.payload_meta?.extra_data?.filename;
      return await submitScan(
        {
          client: this.options.client,
          blobStore: this.options.blobStore,
          taskQueue: this.options.taskQueue,
        },
        {
          content: content as Parameters<typeof submitScan>[1]['content'],
          plan: this.options.plan,
          scanId: item.request_id === undefined ? undefined : scanIdForRequest(item.request_id),
          filename: typeof filename === 'string' ? filename : undefined,
          payloadMeta: item.payload_meta,
          requestMeta,
        },
      );
    } finally {
      this.starts.release();
    }
  }

  /** Content of an `archived` item, from the first source archiver that can fetch it. */
  private async fetch(task: Record<string, unknown>): Promise<PayloadContent> {
    const errors: string[] = [];
    for (const archiver of this.options.sourceArchivers) {
      if (!archiver.hooks.get) continue;
      try {
        return await archiver.hooks.get(task);
      } catch (error) {
        errors.push(`${archiver.name}: ${(error as Error).message}`);
      }
    }
    const why =
      errors.length > 0
        ? errors.join('; ')
        : 'no source archiver (-S) that can fetch it is configured';
    throw new Error(`cannot fetch archived item: ${why}`);
  }

  private track(submitted: SubmittedScan): void {
    this.stats.inFlight++;
    const scan = submitted.handle
      .result()
      .then(async () => {
        this.stats.completed++;
        await this.options.onCompleted?.(submitted.scanId);
      })
      .catch((error: unknown) => {
        this.stats.failed++;
        this.options.logger.warn(
          { scan_id: submitted.scanId, err: (error as Error).message },
          'scan did not complete',
        );
      })
      .finally(() => {
        this.stats.inFlight--;
        this.queue.release();
        this.scans.delete(scan);
      });
    this.scans.add(scan);
  }

  /** Waits for the puts under way, then (with `waitForScans`) for every scan in flight. */
  async drain(waitForScans: boolean): Promise<void> {
    await Promise.allSettled([...this.puts]);
    if (!waitForScans) return;
    while (this.scans.size > 0) await Promise.allSettled([...this.scans]);
  }
}
