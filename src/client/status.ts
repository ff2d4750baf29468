/**
 * A scan's progress, gathered from Temporal: the scan workflow's state and `progress`
 * query, payload workflows counted through visibility, and the `payloadProgress` query of
 * the payloads still at work. Used by `stoq status`.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { payloadIdFor } from '../scan/ids';
import { PAYLOAD_PROGRESS_QUERY, SCAN_PROGRESS_QUERY } from '../workflows/queries';
import type { PayloadProgress, ScanProgress } from '../workflows/types';
import { quoteValue, statusName } from './history';

/** Running payload workflows asked for their plugins; more are only counted. */
export const MAX_PAYLOADS_QUERIED = 20;
/** A query needs a worker to answer; without one, give up rather than hang. */
const QUERY_TIMEOUT_MS = 5_000;

export interface RunningPayload {
  payload_id: string;
  /** Plugins under way on this payload; empty when it did not answer in time. */
  plugins: string[];
}

/** What `stoq status --json` prints. */
export interface ScanStatus {
  scan_id: string;
  /** The scan workflow's status: running, completed, failed, cancelled, terminated... */
  status: string;
  /** The scan workflow's phase; null when it could not be asked (no worker, closed). */
  phase: ScanProgress['phase'] | null;
  payloads_done: number;
  payloads_pending: number;
  running: RunningPayload[];
}

/** The scan's progress; undefined when no scan has this id. */
export async function scanStatus(client: Client, scanId: string): Promise<ScanStatus | undefined> {
  const handle = client.workflow.getHandle(scanId);
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  });
  if (!description || description.type !== 'scanWorkflow') return undefined;

  const status = statusName(description.status.name);
  const phase = status === 'running' ? await askScanPhase(client, scanId) : closedPhase(status);

  const payloads = `StoqScanId = ${quoteValue(scanId)} AND WorkflowType = 'payloadWorkflow'`;
  const [pending, done] = await Promise.all([
    client.workflow.count(`${payloads} AND ExecutionStatus = 'Running'`),
    client.workflow.count(`${payloads} AND ExecutionStatus = 'Completed'`),
  ]);
  const running = pending.count > 0 ? await runningPayloads(client, payloads) : [];

  return {
    scan_id: scanId,
    status,
    phase,
    payloads_done: done.count,
    payloads_pending: pending.count,
    running,
  };
}

function closedPhase(status: string): ScanProgress['phase'] | null {
  if (status === 'completed') return 'done';
  if (status === 'cancelled') return 'cancelled';
  return null;
}

async function askScanPhase(client: Client, scanId: string): Promise<ScanProgress['phase'] | null> {
  const progress = await queryWithin<ScanProgress>(client, scanId, SCAN_PROGRESS_QUERY);
  return progress?.phase ?? null;
}

async function runningPayloads(client: Client, payloads: string): Promise<RunningPayload[]> {
  const workflowIds: string[] = [];
  const query = `${payloads} AND ExecutionStatus = 'Running'`;
  for await (const execution of client.workflow.list({ query, pageSize: MAX_PAYLOADS_QUERIED })) {
    workflowIds.push(execution.workflowId);
    if (workflowIds.length >= MAX_PAYLOADS_QUERIED) break;
  }

  return Promise.all(
    workflowIds.map(async (workflowId) => {
      const progress = await queryWithin<PayloadProgress>(
        client,
        workflowId,
        PAYLOAD_PROGRESS_QUERY,
      );
      return {
        payload_id:
          progress?.payload_id ?? payloadIdFromWorkflowId(scanIdOf(workflowId), workflowId),
        plugins: progress?.running ?? [],
      };
    }),
  );
}

/** Without an answer the workflow id still says which payload: `<scan>/payload/<sha256>`. */
function payloadIdFromWorkflowId(scanId: string, workflowId: string): string {
  return payloadIdFor(scanId, workflowId.slice(workflowId.lastIndexOf('/') + 1));
}

function scanIdOf(payloadWorkflowId: string): string {
  return payloadWorkflowId.slice(0, payloadWorkflowId.indexOf('/payload/'));
}

/** A query that gives up after a while (no worker polling) or when the workflow closed. */
async function queryWithin<T>(
  client: Client,
  workflowId: string,
  query: string,
): Promise<T | undefined> {
  try {
    return await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
      client.workflow.getHandle(workflowId).query<T>(query),
    );
  } catch {
    return undefined;
  }
}
