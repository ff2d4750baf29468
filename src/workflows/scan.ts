/**
 * The scan workflow: one per scan request, its workflow id the scan id.
 *
 * It scans the root payload as a child workflow (which scans what it extracts, and so
 * on), then assembles stoQ's response from the scan ledger, runs the decorators on it,
 * stores it, and hands it to the connectors. A failing decorator or connector is an error
 * entry in the stored response; the scan still completes.
 */
import { executeChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { StoqError } from '../model/schemas';
import { failureMessage, frameworkActivities, ledgerActivities, pluginActivities, shortId } from './calls';
import { payloadWorkflowId } from './children';
import type { PluginPlan, ScanSummary, ScanWorkflowInput } from './types';

export async function scanWorkflow(input: ScanWorkflowInput): Promise<ScanSummary> {
  const errors: StoqError[] = [];
  await ledgerActivities().storePlan(input.scan_id, input.plan);
  await scanRoot(input, errors);

  const ledger = frameworkActivities(`assemble response of scan ${shortId(input.scan_id)}`);
  await ledger.assembleResponse({
    scan_id: input.scan_id,
    time: input.time,
    request_meta: input.request_meta,
    decorators: {},
    errors,
  });

  const decorators = await decorate(input, errors);
  let summary = await ledger.amendResponse({ scan_id: input.scan_id, decorators, errors });

  const connectorErrors = await connect(input);
  if (connectorErrors.length > 0) {
    // stoQ v3 built these errors and then dropped them; here they reach the stored response.
    summary = await ledger.amendResponse({ scan_id: input.scan_id, errors: connectorErrors });
  }
  return summary;
}

async function scanRoot(input: ScanWorkflowInput, errors: StoqError[]): Promise<void> {
  try {
    await executeChild('payloadWorkflow', {
      workflowId: payloadWorkflowId(input.scan_id, input.root.sha256),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
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
    errors.push({ error: failureMessage(error), plugin_name: null, payload_id: input.root.payload_id });
  }
}

async function decorate(input: ScanWorkflowInput, errors: StoqError[]): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const plugins = usable(input, input.plan.decorators, 'decorator', errors);

  await Promise.all(
    plugins.map(async (plugin) => {
      try {
        const activities = pluginActivities(plugin, `decorate scan ${shortId(input.scan_id)} with ${plugin.name}`);
        const outcome = await activities.runDecorator({ scan_id: input.scan_id, plugin });
        if (outcome.results !== undefined) results[plugin.name] = outcome.results;
        errors.push(...outcome.errors);
      } catch (error) {
        errors.push({ error: failureMessage(error), plugin_name: plugin.name, payload_id: null });
      }
    }),
  );
  return results;
}

async function connect(input: ScanWorkflowInput): Promise<StoqError[]> {
  const errors: StoqError[] = [];
  const plugins = usable(input, input.plan.connectors, 'connector', errors);

  await Promise.all(
    plugins.map(async (plugin) => {
      try {
        const activities = pluginActivities(plugin, `save scan ${shortId(input.scan_id)} with ${plugin.name}`);
        await activities.runConnector({ scan_id: input.scan_id, plugin });
      } catch (error) {
        errors.push({ error: failureMessage(error), plugin_name: plugin.name, payload_id: null });
      }
    }),
  );
  return errors;
}

function usable(input: ScanWorkflowInput, names: string[], kind: string, errors: StoqError[]): PluginPlan[] {
  const plugins: PluginPlan[] = [];
  for (const name of names) {
    const plugin = input.plan.plugins[name];
    const problem = !plugin
      ? `unknown plugin "${name}"`
      : (plugin.invalid ?? (plugin.kinds.includes(kind) ? undefined : `plugin "${name}" is not a ${kind}`));
    if (problem) errors.push({ error: problem, plugin_name: name, payload_id: null });
    else plugins.push(plugin);
  }
  return plugins;
}
