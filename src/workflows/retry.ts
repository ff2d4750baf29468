/**
 * The retry workflow: re-runs the plugins that failed in a finished scan, against the
 * payloads stored for it, as a new scan linked to the original (`request_meta.extra_data
 * .retry_of`). What succeeded is copied, not run again; see scan/retry.ts.
 *
 * Unlike a Temporal reset, which replays one workflow from a chosen event, a retry
 * works across every payload workflow of the scan and can use fixed configuration.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { RequestMeta } from '../model/schemas';
import { failureMessage, frameworkActivities, ledgerActivities, shortId } from './calls';
import { childSearchAttributes, payloadWorkflowId, runBounded } from './children';
import { scanProgressQuery } from './queries';
import { finishScan } from './scan';
import { StoqScanId, StoqSha256 } from './search-attributes';
import type {
  PayloadWorkflowInput,
  PayloadWorkflowResult,
  RetryChunkInput,
  RetryEntry,
  RetryWorkflowInput,
  ScanProgress,
  ScanSummary,
} from './types';

const MAX_CHUNKS_IN_FLIGHT = 2;
const MAX_PAYLOADS_IN_FLIGHT = 100;

export async function retryWorkflow(input: RetryWorkflowInput): Promise<ScanSummary> {
  const progress: ScanProgress = { scan_id: input.scan_id, phase: 'scanning' };
  setHandler(scanProgressQuery, () => progress);
  await ledgerActivities().storePlan(input.scan_id, input.plan);

  const prepared = await frameworkActivities(
    `copy scan ${shortId(input.original_scan_id)} and list its failed plugins`,
  )
    .prepareRetry(input)
    .catch((error: unknown) => {
      // Nothing to retry, or no such scan: fail the retry with the reason, not a wrapper.
      throw ApplicationFailure.nonRetryable(failureMessage(error), 'RetryNotPossible');
    });
  if (workflowInfo().typedSearchAttributes.get(StoqScanId)) {
    upsertSearchAttributes([{ key: StoqSha256, value: [prepared.root_sha256] }]);
  }

  const chunks = Array.from(
    { length: prepared.chunks },
    (_, chunk) => () =>
      startRetryChunk({ scan_id: input.scan_id, request_meta: prepared.request_meta, chunk }),
  );
  await runBounded(chunks, MAX_CHUNKS_IN_FLIGHT);

  return finishScan({ ...input, request_meta: prepared.request_meta }, [], progress);
}

async function startRetryChunk(input: RetryChunkInput): Promise<number> {
  const handle = await startChild('retryChunkWorkflow', {
    workflowId: `${input.scan_id}/retry/${input.chunk}`,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    typedSearchAttributes: workflowInfo().typedSearchAttributes.get(StoqScanId)
      ? [{ key: StoqScanId, value: input.scan_id }]
      : [],
    args: [input],
    staticSummary: `retry of failed plugins, payloads chunk ${input.chunk + 1}`,
  });
  return (await handle.result()) as number;
}

/** Resumes the payloads of one chunk of a retry, each in its own payload workflow. */
export async function retryChunkWorkflow(input: RetryChunkInput): Promise<number> {
  const entries = await ledgerActivities().readRetryChunk(input);
  const tasks = entries.map(
    (entry) => () => resumePayload(input.scan_id, input.request_meta, entry),
  );
  const counts = await runBounded(tasks, MAX_PAYLOADS_IN_FLIGHT);
  return counts.reduce((sum, count) => sum + count, 0);
}

async function resumePayload(
  scanId: string,
  requestMeta: RequestMeta,
  entry: RetryEntry,
): Promise<number> {
  const child: PayloadWorkflowInput = {
    scan_id: scanId,
    request_meta: requestMeta,
    payload: entry.payload,
    depth: entry.depth,
    order: entry.order,
    isRoot: entry.depth === 0,
    resume: entry.resume,
  };
  const plugins = [...entry.resume.workers, ...entry.resume.archivers].join(', ');
  const handle = await startChild('payloadWorkflow', {
    workflowId: payloadWorkflowId(scanId, entry.payload.sha256),
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    typedSearchAttributes: childSearchAttributes(
      scanId,
      entry.payload.sha256,
      entry.payload.payload_meta.extra_data.filename,
    ),
    args: [child],
    staticSummary: `retry ${plugins || 'dispatch'} on payload ${shortId(entry.payload.payload_id)}`,
  });
  return ((await handle.result()) as PayloadWorkflowResult).payload_count;
}
