/**
 * Submitting scans: content goes to the blob store, then one scan workflow starts with
 * the scan id as its workflow id. Submission is idempotent: starting the same scan id
 * again (a client retry, a provider re-delivering a message) returns the existing scan.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../blobstore/types';
import {
  payloadMetaSchema,
  requestMetaSchema,
  type PayloadMeta,
  type RequestMeta,
  type StoqResponse,
} from '../model/schemas';
import { newScanId, payloadIdFor, scanIdSchema } from '../scan/ids';
import { ScanLedger } from '../scan/ledger';
import type { ScanPlan, ScanSummary, ScanWorkflowInput } from '../workflows/types';
import { ConfigError } from '../config/errors';
import type { SearchAttributePair } from '@temporalio/common';
import {
  keywordValue,
  StoqFilename,
  StoqScanId,
  StoqSha256,
  StoqSource,
} from '../workflows/search-attributes';

export interface ScanSubmission {
  content: Buffer | Uint8Array | Readable;
  plan: ScanPlan;
  scanId?: string;
  filename?: string;
  payloadMeta?: Partial<PayloadMeta>;
  requestMeta?: Partial<RequestMeta>;
}

export interface SubmitOptions {
  client: Client;
  blobStore: BlobStore;
  taskQueue: string;
  /**
   * Index scans with stoQ's search attributes (default true). They must be registered on
   * the namespace (`stoq setup`; the local dev server registers them itself).
   */
  searchAttributes?: boolean;
}

export interface SubmittedScan {
  scanId: string;
  handle: WorkflowHandle;
  /** True when a finished scan with this id already existed and no new one was started. */
  existing: boolean;
}

export async function submitScan(
  options: SubmitOptions,
  submission: ScanSubmission,
): Promise<SubmittedScan> {
  const scanId = submission.scanId ?? newScanId();
  const checked = scanIdSchema.safeParse(scanId);
  if (!checked.success)
    throw new ConfigError(`scan id "${scanId}": ${checked.error.issues[0].message}`);

  const content = submission.content;
  const ref =
    Buffer.isBuffer(content) || content instanceof Uint8Array
      ? await options.blobStore.putBuffer(content)
      : await options.blobStore.putStream(content as Readable);

  const extra = submission.filename ? { filename: submission.filename } : {};
  const payloadMeta = payloadMetaSchema.parse({
    ...submission.payloadMeta,
    extra_data: { ...extra, ...submission.payloadMeta?.extra_data },
  });
  const input: ScanWorkflowInput = {
    scan_id: scanId,
    time: new Date().toISOString(),
    root: {
      ...ref,
      payload_id: payloadIdFor(scanId, ref.sha256),
      payload_meta: payloadMeta,
      extracted_by: [],
      extracted_from: [],
    },
    request_meta: requestMetaSchema.parse(submission.requestMeta ?? {}),
    plan: submission.plan,
    filename: submission.filename,
  };
  return startScanWorkflow(options, input);
}

async function startScanWorkflow(
  options: SubmitOptions,
  input: ScanWorkflowInput,
): Promise<SubmittedScan> {
  const { client, taskQueue } = options;
  const label = input.filename ? `${input.filename} ` : '';
  try {
    const handle = await client.workflow.start('scanWorkflow', {
      workflowId: input.scan_id,
      taskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes:
        options.searchAttributes === false ? [] : initialSearchAttributes(input),
      staticSummary: `scan ${label}(sha256 ${input.root.sha256.slice(0, 16)}, ${input.root.size} bytes)`,
    });
    // USE_EXISTING hands back the running scan when the id is taken, so a retried start
    // joins the scan already under way; the server does not tell us which case it was.
    return { scanId: input.scan_id, handle, existing: false };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return {
      scanId: input.scan_id,
      handle: client.workflow.getHandle(input.scan_id),
      existing: true,
    };
  }
}

function initialSearchAttributes(input: ScanWorkflowInput): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: StoqScanId, value: input.scan_id },
    { key: StoqSha256, value: [input.root.sha256] },
  ];
  if (input.filename) pairs.push({ key: StoqFilename, value: keywordValue(input.filename) });
  if (input.request_meta.source)
    pairs.push({ key: StoqSource, value: keywordValue(input.request_meta.source) });
  return pairs;
}

/** Waits for a scan to finish and reads its stored response. */
export async function waitForResponse(
  handle: WorkflowHandle,
  blobStore: BlobStore,
): Promise<StoqResponse> {
  const summary = (await handle.result()) as ScanSummary;
  return readResponse(blobStore, summary.scan_id);
}

export async function readResponse(blobStore: BlobStore, scanId: string): Promise<StoqResponse> {
  const response = await new ScanLedger(blobStore, scanId).response();
  if (!response) throw new Error(`no stored response for scan ${scanId}`);
  return response;
}
