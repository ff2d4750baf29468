/**
 * Starting extracted payloads as child workflows, with bounded history.
 *
 * A worker that extracted few payloads lists them inline and the payload workflow starts
 * their children itself. Larger extractions are listed in chunks in the scan ledger; each
 * chunk gets a fan-out workflow that reads it and starts its children, so no workflow's
 * history grows with the size of an archive.
 */
import {
  isCancellation,
  log,
  ParentClosePolicy,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { keywordValue, StoqFilename, StoqScanId, StoqSha256 } from './search-attributes';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RequestMeta } from '../model/schemas';
import { failureMessage, ledgerActivities, shortId } from './calls';
import type {
  ExtractedDescriptor,
  ExtractionListing,
  FanoutWorkflowInput,
  PayloadWorkflowInput,
  PayloadWorkflowResult,
} from './types';

/**
 * Children in flight per workflow. Kept low on purpose: every open payload workflow holds
 * a place in the worker's workflow cache, and a wide archive with thousands of children
 * open at once evicts workflows that must then replay their history on every event.
 */
const MAX_CHILDREN_IN_FLIGHT = 100;

/** Fan-out workflows in flight per payload: a 10,000-member archive opens 20, two at a time. */
const MAX_FANOUTS_IN_FLIGHT = 2;

export interface ParentRef {
  payload_id: string;
  depth: number;
  order: string;
}

export interface ChildContext {
  scan_id: string;
  request_meta: RequestMeta;
  parent: ParentRef;
}

export function payloadWorkflowId(scanId: string, sha256: string): string {
  return `${scanId}/payload/${sha256}`;
}

/**
 * A payload workflow's search attributes: its scan, its hash, its name. Set only when the
 * scan itself was started with stoQ's attributes (so they are registered on the namespace).
 */
export function childSearchAttributes(
  scanId: string,
  sha256: string,
  filename?: unknown,
): SearchAttributePair[] {
  if (!workflowInfo().typedSearchAttributes.get(StoqScanId)) return [];
  const pairs: SearchAttributePair[] = [
    { key: StoqScanId, value: scanId },
    { key: StoqSha256, value: [sha256] },
  ];
  if (typeof filename === 'string' && filename.length > 0) {
    pairs.push({ key: StoqFilename, value: keywordValue(filename) });
  }
  return pairs;
}

/** Scans every payload the workers extracted; returns how many payloads that added. */
export async function scanExtracted(
  input: PayloadWorkflowInput,
  listings: ExtractionListing[],
): Promise<number> {
  const context: ChildContext = {
    scan_id: input.scan_id,
    request_meta: input.request_meta,
    parent: { payload_id: input.payload.payload_id, depth: input.depth, order: input.order },
  };

  const children: (() => Promise<number>)[] = [];
  const fanouts: (() => Promise<number>)[] = [];
  listings.forEach((listing, workerSeq) => {
    if (listing.inline) {
      for (const extracted of listing.inline) {
        children.push(() => startPayloadChild(context, extracted, workerSeq, listing.worker));
      }
      return;
    }
    for (let chunk = 0; chunk < listing.chunks; chunk++) {
      fanouts.push(() => startFanout(context, listing.worker, workerSeq, chunk));
    }
  });

  const counts = await Promise.all([
    runBounded(children, MAX_CHILDREN_IN_FLIGHT),
    runBounded(fanouts, MAX_FANOUTS_IN_FLIGHT),
  ]);
  return counts.flat().reduce((sum, count) => sum + count, 0);
}

/**
 * Starts the payload workflow of one extracted payload. Its id is unique per scan and
 * SHA-256, and reuse is rejected: a second extraction of the same content (in this
 * branch or any other) finds it started and adds no scan. Lineage of duplicates is merged
 * when the response is assembled, from the extraction ledger.
 */
export async function startPayloadChild(
  context: ChildContext,
  extracted: ExtractedDescriptor,
  workerSeq: number,
  worker: string,
): Promise<number> {
  // Already scanned in this scan (or copied into a retry): nothing to start, lineage is merged later.
  if (extracted.recorded) return 0;
  const { parent } = context;
  const filename = extracted.payload_meta.extra_data.filename;
  const child: PayloadWorkflowInput = {
    scan_id: context.scan_id,
    request_meta: context.request_meta,
    payload: {
      payload_id: extracted.payload_id,
      sha256: extracted.sha256,
      size: extracted.size,
      payload_meta: extracted.payload_meta,
      extracted_by: [worker],
      extracted_from: [parent.payload_id],
    },
    depth: parent.depth + 1,
    order: `${parent.order}.${pad(workerSeq, 3)}${pad(extracted.index, 8)}`,
    isRoot: false,
  };

  try {
    const handle = await startChild('payloadWorkflow', {
      workflowId: payloadWorkflowId(context.scan_id, extracted.sha256),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      typedSearchAttributes: childSearchAttributes(context.scan_id, extracted.sha256, filename),
      args: [child],
      staticSummary:
        `payload ${shortId(extracted.payload_id)} extracted by ${worker} from ` +
        `${shortId(parent.payload_id)}` +
        (typeof filename === 'string' ? `: ${filename.slice(0, 80)}` : ''),
    });
    const result = (await handle.result()) as PayloadWorkflowResult;
    return result.payload_count;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 0;
    if (isCancellation(error)) throw error;
    await recordFailedChild(context, child, failureMessage(error));
    return 1;
  }
}

/**
 * A payload workflow that failed (a bug, not a plugin: plugin failures are error entries)
 * must not vanish from the response: its payload is listed with the failure, unless it
 * recorded itself before failing.
 */
async function recordFailedChild(
  context: ChildContext,
  child: PayloadWorkflowInput,
  message: string,
) {
  const { payload } = child;
  log.error('payload workflow failed', {
    scan_id: context.scan_id,
    payload_id: payload.payload_id,
    error: message,
  });
  await ledgerActivities().recordPayloadIfMissing(context.scan_id, {
    payload_id: payload.payload_id,
    sha256: payload.sha256,
    size: payload.size,
    depth: child.depth,
    order: child.order,
    payload_meta: payload.payload_meta,
    dispatch_meta: {},
    plugins_run: { workers: [], archivers: [] },
    archivers: {},
    errors: [
      {
        error: `payload workflow failed: ${message}`,
        plugin_name: null,
        payload_id: payload.payload_id,
      },
    ],
    extracted_by_workers: [],
  });
}

async function startFanout(
  context: ChildContext,
  worker: string,
  workerSeq: number,
  chunk: number,
): Promise<number> {
  const input: FanoutWorkflowInput = {
    scan_id: context.scan_id,
    request_meta: context.request_meta,
    parent: context.parent,
    worker,
    chunk,
  };
  const handle = await startChild('fanoutWorkflow', {
    workflowId: `${context.scan_id}/fanout/${context.parent.payload_id}/${worker}/${chunk}`,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    typedSearchAttributes: fanoutSearchAttributes(context.scan_id),
    args: [input, workerSeq],
    staticSummary: `payloads ${chunk + 1} of ${worker} extractions from ${shortId(context.parent.payload_id)}`,
  });
  return (await handle.result()) as number;
}

function fanoutSearchAttributes(scanId: string): SearchAttributePair[] {
  return workflowInfo().typedSearchAttributes.get(StoqScanId)
    ? [{ key: StoqScanId, value: scanId }]
    : [];
}

/** A fan-out workflow: starts the payload workflows of one chunk of an extraction listing. */
export async function fanoutWorkflow(
  input: FanoutWorkflowInput,
  workerSeq: number,
): Promise<number> {
  const extracted = await ledgerActivities().readExtractedChunk({
    scan_id: input.scan_id,
    parent_payload_id: input.parent.payload_id,
    worker: input.worker,
    chunk: input.chunk,
  });

  const context: ChildContext = { ...input };
  const tasks = extracted.map(
    (descriptor) => () => startPayloadChild(context, descriptor, workerSeq, input.worker),
  );
  const counts = await runBounded(tasks, MAX_CHILDREN_IN_FLIGHT);
  return counts.reduce((sum, count) => sum + count, 0);
}

/** Runs tasks with at most `limit` in flight; results in task order. */
export async function runBounded<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
