/**
 * Activity proxies: one per plugin call, with that plugin's retry policy and timeouts,
 * and a summary that names the plugin and the payload in the Web UI.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { ScanActivities } from '../activities';
import type { PluginPlan } from './types';

/** Framework bookkeeping (ledger reads and writes): quick, retried generously. */
export function frameworkActivities(summary: string): ScanActivities {
  return proxyActivities<ScanActivities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { maximumAttempts: 10, initialInterval: '1 second', maximumInterval: '30 seconds' },
    summary,
  });
}

/**
 * Ledger bookkeeping that runs in the worker holding the workflow task (local activities):
 * small reads and writes that would otherwise cost a task-queue round trip per payload.
 */
export function ledgerActivities(): ScanActivities {
  return proxyLocalActivities<ScanActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 10, initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
}

/** Activities for one plugin, shaped by the plugin's own settings. */
export function pluginActivities(plugin: PluginPlan, summary: string): ScanActivities {
  const settings = plugin.activity;
  const options: ActivityOptions = {
    startToCloseTimeout: settings.startToCloseTimeoutMs,
    heartbeatTimeout: settings.heartbeatTimeoutMs,
    retry: {
      maximumAttempts: settings.retryMaxAttempts,
      initialInterval: settings.retryInitialIntervalMs,
      backoffCoefficient: settings.retryBackoff,
      maximumInterval: settings.retryMaxIntervalMs,
    },
    summary,
  };
  return proxyActivities<ScanActivities>(options);
}

/** The message of the failure behind an activity that gave up, for an error entry. */
export function failureMessage(error: unknown): string {
  let current: unknown = error;
  // ActivityFailure wraps the plugin's own failure; report the innermost message.
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  if (current instanceof ApplicationFailure && current.type && current.type !== 'Error') {
    return `${current.type}: ${current.message}`;
  }
  return current instanceof Error ? current.message : String(current);
}

export function shortId(id: string): string {
  return id.length > 13 ? id.slice(0, 13) : id;
}
