/**
 * Retrying a finished scan's failed plugins (`stoq retry`): starts a retry workflow whose
 * scan id is new and whose response links back to the original.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { ConfigError } from '../config/errors';
import { newScanId, scanIdSchema } from '../scan/ids';
import { StoqScanId } from '../workflows/search-attributes';
import type { RetryWorkflowInput, ScanPlan } from '../workflows/types';
import type { SubmitOptions, SubmittedScan } from './submit';

export interface RetrySubmission {
  originalScanId: string;
  plan: ScanPlan;
  /** Only these failed plugins; every failed plugin when empty. */
  plugins?: string[];
  scanId?: string;
}

export async function submitRetry(
  options: SubmitOptions,
  retry: RetrySubmission,
): Promise<SubmittedScan> {
  const scanId = retry.scanId ?? newScanId();
  for (const id of [scanId, retry.originalScanId]) {
    const checked = scanIdSchema.safeParse(id);
    if (!checked.success)
      throw new ConfigError(`scan id "${id}": ${checked.error.issues[0].message}`);
  }

  const input: RetryWorkflowInput = {
    scan_id: scanId,
    original_scan_id: retry.originalScanId,
    time: new Date().toISOString(),
    plan: retry.plan,
    plugins: retry.plugins?.length ? retry.plugins : undefined,
  };
  const searchAttributes: SearchAttributePair[] =
    options.searchAttributes === false ? [] : [{ key: StoqScanId, value: scanId }];
  const handle = await options.client.workflow.start('retryWorkflow', {
    workflowId: scanId,
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: searchAttributes,
    staticSummary: `retry of scan ${retry.originalScanId}${input.plugins ? ` (${input.plugins.join(', ')})` : ''}`,
  });
  return { scanId, handle, existing: false };
}
