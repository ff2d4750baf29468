/**
 * Activities that keep the scan ledger and build the response: recording payloads,
 * reading extraction chunks for fan-out, assembling and amending the stored response,
 * and running decorators and connectors on it.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { StoqError, StoqResponse } from '../model/schemas';
import { assembleResponse } from '../scan/assemble';
import { ScanLedger } from '../scan/ledger';
import { NothingToRetryError, prepareRetry, type RetryPreparation } from '../scan/retry';
import type {
  ConnectorInput,
  DecoratorInput,
  DecoratorOutcome,
  ExtractedDescriptor,
  FinishInput,
  PayloadRecord,
  ReadChunkInput,
  RetryChunkInput,
  RetryEntry,
  RetryWorkflowInput,
  ScanPlan,
  ScanSummary,
} from '../workflows/types';
import { asPluginCall } from './failures';
import type { ActivityRuntime } from './runtime';

export interface AmendInput {
  scan_id: string;
  decorators?: Record<string, unknown>;
  errors: StoqError[];
}

/** Plans of recent scans, so the payload workflows of a scan read the plan once per worker. */
const PLAN_CACHE_SIZE = 64;

export function scanLedgerActivities(runtime: ActivityRuntime) {
  const ledgerOf = (scanId: string) => new ScanLedger(runtime.blobStore, scanId);
  const plans = new Map<string, ScanPlan>();

  const remember = (scanId: string, plan: ScanPlan) => {
    plans.delete(scanId);
    plans.set(scanId, plan);
    if (plans.size > PLAN_CACHE_SIZE) plans.delete(plans.keys().next().value as string);
  };

  return {
    async storePlan(scanId: string, plan: ScanPlan): Promise<void> {
      await ledgerOf(scanId).putPlan(plan);
      remember(scanId, plan);
    },

    async loadPlan(scanId: string): Promise<ScanPlan> {
      const plan = plans.get(scanId) ?? (await ledgerOf(scanId).plan());
      remember(scanId, plan);
      return plan;
    },

    async recordPayload(scanId: string, record: PayloadRecord): Promise<void> {
      await ledgerOf(scanId).putRecord(record);
    },

    async recordPayloadIfMissing(scanId: string, record: PayloadRecord): Promise<boolean> {
      const ledger = ledgerOf(scanId);
      if (await ledger.record(record.payload_id)) return false;
      await ledger.putRecord(record);
      return true;
    },

    async loadRecord(scanId: string, payloadId: string): Promise<PayloadRecord> {
      const record = await ledgerOf(scanId).record(payloadId);
      if (!record)
        throw ApplicationFailure.nonRetryable(
          `scan ${scanId} has no record of payload ${payloadId}`,
        );
      return record;
    },

    async prepareRetry(input: RetryWorkflowInput): Promise<RetryPreparation> {
      try {
        return await prepareRetry(
          ledgerOf(input.original_scan_id),
          ledgerOf(input.scan_id),
          input.plan,
          input.plugins,
        );
      } catch (error) {
        if (error instanceof NothingToRetryError)
          throw ApplicationFailure.nonRetryable(error.message, 'NothingToRetry');
        throw error;
      }
    },

    async readRetryChunk(input: RetryChunkInput): Promise<RetryEntry[]> {
      const entries = await ledgerOf(input.scan_id).retryEntries(input.chunk);
      if (!entries)
        throw ApplicationFailure.nonRetryable(
          `retry chunk ${input.chunk} of ${input.scan_id} is missing`,
        );
      return entries;
    },

    async readExtractedChunk(input: ReadChunkInput): Promise<ExtractedDescriptor[]> {
      return ledgerOf(input.scan_id).extractedChunk(
        input.parent_payload_id,
        input.worker,
        input.chunk,
      );
    },

    async assembleResponse(input: FinishInput): Promise<ScanSummary> {
      const ledger = ledgerOf(input.scan_id);
      const response = await assembleResponse(ledger, input);
      await ledger.putResponse(response);
      return summaryOf(ledger, response);
    },

    async amendResponse(input: AmendInput): Promise<ScanSummary> {
      const ledger = ledgerOf(input.scan_id);
      const response = await storedResponse(ledger);
      if (input.decorators) response.decorators = { ...response.decorators, ...input.decorators };
      for (const error of input.errors) {
        if (!response.errors.some((known) => sameError(known, error))) response.errors.push(error);
      }
      await ledger.putResponse(response);
      return summaryOf(ledger, response);
    },

    async runDecorator(input: DecoratorInput): Promise<DecoratorOutcome> {
      const response = await storedResponse(ledgerOf(input.scan_id));
      const result = await asPluginCall(async () => {
        const instance = await runtime.plugins.instance(
          input.plugin.name,
          input.plugin.options,
          'decorator',
        );
        return (await instance.decorator!.decorate(response)) ?? {};
      });
      const errors = (result.errors ?? []).map((error) => ({
        error,
        plugin_name: input.plugin.name,
        payload_id: null,
      }));
      return { results: result.results, errors };
    },

    async runConnector(input: ConnectorInput): Promise<void> {
      const response = await storedResponse(ledgerOf(input.scan_id));
      await asPluginCall(async () => {
        const instance = await runtime.plugins.instance(
          input.plugin.name,
          input.plugin.options,
          'connector',
        );
        await instance.connector!.save(response);
      });
    },
  };
}

async function storedResponse(ledger: ScanLedger): Promise<StoqResponse> {
  const response = await ledger.response();
  if (!response) throw new Error(`scan ${ledger.scanId} has no assembled response yet`);
  return response;
}

function summaryOf(ledger: ScanLedger, response: StoqResponse): ScanSummary {
  const workers = new Set(response.results.flatMap((result) => result.plugins_run.workers));
  return {
    scan_id: response.scan_id,
    response_key: ledger.responseKey(),
    payload_count: response.results.length,
    error_count: response.errors.length,
    workers: [...workers].sort(),
    yara_rules: yaraRulesOf(response),
  };
}

/** Rule names from `yara` worker results (`{ matches: [{ rule }] }`), tolerant of other shapes. */
function yaraRulesOf(response: StoqResponse): string[] {
  const rules = new Set<string>();
  for (const result of response.results) {
    const matches = (result.workers.yara as { matches?: unknown } | undefined)?.matches;
    if (!Array.isArray(matches)) continue;
    for (const match of matches) {
      const rule = (match as { rule?: unknown }).rule;
      if (typeof rule === 'string') rules.add(rule);
    }
  }
  return [...rules].sort();
}

function sameError(a: StoqError, b: StoqError): boolean {
  return a.error === b.error && a.plugin_name === b.plugin_name && a.payload_id === b.payload_id;
}
