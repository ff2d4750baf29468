/**
 * The scan workflow: one per scan request, its workflow id the scan id.
 *
 * It scans the root payload as a child workflow (which scans what it extracts, and so
 * on), then assembles stoQ's response from the scan ledger, runs the decorators on it,
 * stores it, and hands it to the connectors. A failing decorator or connector is an error
 * entry in the stored response; the scan still completes.
 */
import {
  CancellationScope,
  executeChild,
  isCancellation,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { StoqError } from '../model/schemas';
import {
  failureMessage,
  frameworkActivities,
  ledgerActivities,
  pluginActivities,
  shortId,
} from './calls';
import { childSearchAttributes, payloadWorkflowId } from './children';
import { usablePlugins } from './plugins';
import { scanProgressQuery } from './queries';
import {
  StoqHasErrors,
  StoqPayloadCount,
  StoqScanId,
  StoqWorkers,
  StoqYaraRules,
} from './search-attributes';
import type { ScanProgress, ScanSummary, ScanWorkflowInput } from './types';

export const SCAN_CANCELLED = 'scan cancelled';

export async function scanWorkflow(input: ScanWorkflowInput): Promise<ScanSummary> {
  const progress: ScanProgress = { scan_id: input.scan_id, phase: 'scanning' };
  setHandler(scanProgressQuery, () => progress);
  const errors: StoqError[] = [];
  await ledgerActivities().storePlan(input.scan_id, input.plan);

  try {
    await scanRoot(input, errors);
  } catch (error) {
    if (!isCancellation(error)) throw error;
    progress.phase = 'cancelled';
    await CancellationScope.nonCancellable(() => keepPartialResponse(input, errors));
    throw error;
  }

  return finishScan(input, errors, progress);
}

/**
 * After every payload is done: assemble the response from the ledger, decorate it, store
 * it, hand it to the connectors. Shared by scans and retries.
 */
export async function finishScan(
  input: Pick<ScanWorkflowInput, 'scan_id' | 'time' | 'request_meta' | 'plan'>,
  errors: StoqError[],
  progress: ScanProgress,
): Promise<ScanSummary> {
  progress.phase = 'assembling';
  const ledger = frameworkActivities(`assemble response of scan ${shortId(input.scan_id)}`);
  await ledger.assembleResponse({
    scan_id: input.scan_id,
    time: input.time,
    request_meta: input.request_meta,
    decorators: {},
    errors,
  });

  progress.phase = 'decorating';
  const decorators = await decorate(input, errors);
  let summary = await ledger.amendResponse({ scan_id: input.scan_id, decorators, errors });

  progress.phase = 'connecting';
  const connectorErrors = await connect(input);
  if (connectorErrors.length > 0) {
    // stoQ v3 built these errors and then dropped them; here they reach the stored response.
    summary = await ledger.amendResponse({ scan_id: input.scan_id, errors: connectorErrors });
  }

  progress.phase = 'done';
  recordOutcome(summary);
  return summary;
}

/** A cancelled scan still leaves what it found, marked as cancelled. */
async function keepPartialResponse(input: ScanWorkflowInput, errors: StoqError[]): Promise<void> {
  const summary = await frameworkActivities(
    `keep partial response of scan ${shortId(input.scan_id)}`,
  ).assembleResponse({
    scan_id: input.scan_id,
    time: input.time,
    request_meta: input.request_meta,
    decorators: {},
    errors: [...errors, { error: SCAN_CANCELLED, plugin_name: null, payload_id: null }],
  });
  recordOutcome(summary);
}

/** Search attributes known only at the end; only when the scan was started with stoQ's. */
function recordOutcome(summary: ScanSummary): void {
  if (!workflowInfo().typedSearchAttributes.get(StoqScanId)) return;
  upsertSearchAttributes([
    { key: StoqWorkers, value: summary.workers },
    { key: StoqYaraRules, value: summary.yara_rules },
    { key: StoqHasErrors, value: summary.error_count > 0 },
    { key: StoqPayloadCount, value: summary.payload_count },
  ]);
}

async function scanRoot(input: ScanWorkflowInput, errors: StoqError[]): Promise<void> {
  try {
    await executeChild('payloadWorkflow', {
      workflowId: payloadWorkflowId(input.scan_id, input.root.sha256),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: childSearchAttributes(
        input.scan_id,
        input.root.sha256,
        input.filename,
      ),
      staticSummary: `root payload ${shortId(input.root.payload_id)}${
        input.filename ? `: ${input.filename.slice(0, 80)}` : ''
      }`,
      args: [
        {
          scan_id: input.scan_id,
          request_meta: input.request_meta,
          payload: input.root,
          depth: 0,
          order: '0',
          isRoot: true,
        },
      ],
    });
  } catch (error) {
    if (isCancellation(error)) throw error;
    errors.push({
      error: failureMessage(error),
      plugin_name: null,
      payload_id: input.root.payload_id,
    });
  }
}

type FinishInput = Pick<ScanWorkflowInput, 'scan_id' | 'plan'>;

async function decorate(input: FinishInput, errors: StoqError[]): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const plugins = usablePlugins(input.plan, input.plan.decorators, 'decorator', (problem, name) =>
    errors.push({ error: problem, plugin_name: name, payload_id: null }),
  );

  await Promise.all(
    plugins.map(async (plugin) => {
      try {
        const activities = pluginActivities(
          plugin,
          `decorate scan ${shortId(input.scan_id)} with ${plugin.name}`,
        );
        const outcome = await activities.runDecorator({ scan_id: input.scan_id, plugin });
        if (outcome.results !== undefined) results[plugin.name] = outcome.results;
        errors.push(...outcome.errors);
      } catch (error) {
        if (isCancellation(error)) throw error;
        errors.push({ error: failureMessage(error), plugin_name: plugin.name, payload_id: null });
      }
    }),
  );
  return results;
}

async function connect(input: FinishInput): Promise<StoqError[]> {
  const errors: StoqError[] = [];
  const plugins = usablePlugins(input.plan, input.plan.connectors, 'connector', (problem, name) =>
    errors.push({ error: problem, plugin_name: name, payload_id: null }),
  );

  await Promise.all(
    plugins.map(async (plugin) => {
      try {
        const activities = pluginActivities(
          plugin,
          `save scan ${shortId(input.scan_id)} with ${plugin.name}`,
        );
        await activities.runConnector({ scan_id: input.scan_id, plugin });
      } catch (error) {
        if (isCancellation(error)) throw error;
        errors.push({ error: failureMessage(error), plugin_name: plugin.name, payload_id: null });
      }
    }),
  );
  return errors;
}
