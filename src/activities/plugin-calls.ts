/**
 * Activities that call plugins on a payload: dispatchers, workers, destination archivers.
 *
 * Failure policy at this boundary: a plugin's ordinary exception is retried by the
 * plugin's retry policy; `PluginError` with `retryable: false` and an unavailable plugin
 * (not installed, bad options, setup failed) fail at once. When the last attempt fails,
 * the workflow records the failure as an error entry and the scan goes on.
 */
import { Context, ApplicationFailure } from '@temporalio/activity';
import { Readable } from 'node:stream';
import { payloadMetaSchema, type StoqError } from '../model/schemas';
import type { ExtractedPayload, WorkerResult } from '../plugins/api';
import { PluginUnavailableError } from '../plugins/host';
import { payloadIdFor } from '../scan/ids';
import { ScanLedger } from '../scan/ledger';
import { scanLogger } from '../log';
import type {
  ArchiverInput,
  ArchiverOutcome,
  DispatchInput,
  DispatchOutcome,
  ExtractedDescriptor,
  ExtractionListing,
  WorkerInput,
  WorkerOutcome,
} from '../workflows/types';
import { payloadHandle, requestView } from './payload-handle';
import { asPluginCall } from './failures';
import type { ActivityRuntime } from './runtime';

/** Extractions listed inline in history up to this many; beyond, only in ledger chunks. */
const INLINE_EXTRACTIONS = 25;

export function pluginCallActivities(runtime: ActivityRuntime) {
  return {
    async dispatchPayload(input: DispatchInput): Promise<DispatchOutcome> {
      const ledger = new ScanLedger(runtime.blobStore, input.scan_id);
      const payload = await payloadHandle(runtime.blobStore, ledger, input);
      const request = requestView(ledger, input.request_meta);
      const outcome: DispatchOutcome = { dispatched: {}, meta: {}, errors: [] };

      for (const plugin of input.dispatchers) {
        const log = scanLogger(runtime.logger, {
          scan_id: input.scan_id,
          payload_id: input.payload.payload_id,
          plugin: plugin.name,
          plugin_kind: 'dispatcher',
        });
        try {
          const instance = await runtime.plugins.instance(
            plugin.name,
            plugin.options,
            'dispatcher',
          );
          const result = (await instance.dispatcher!.dispatch(payload, request)) ?? {};
          outcome.dispatched[plugin.name] = result.plugin_names ?? [];
          if (result.meta) outcome.meta[plugin.name] = result.meta;
          outcome.errors.push(
            ...errorEntries(result.errors, plugin.name, input.payload.payload_id),
          );
        } catch (error) {
          log.warn({ err: error }, 'dispatcher failed');
          outcome.errors.push(errorEntry(error, plugin.name, input.payload.payload_id));
        }
      }
      return outcome;
    },

    async runWorker(input: WorkerInput): Promise<WorkerOutcome> {
      const { plugin, payload: descriptor } = input;
      const log = scanLogger(runtime.logger, {
        scan_id: input.scan_id,
        payload_id: descriptor.payload_id,
        plugin: plugin.name,
        plugin_kind: 'worker',
      });
      const ledger = new ScanLedger(runtime.blobStore, input.scan_id);

      const result = await asPluginCall(async () => {
        const instance = await runtime.plugins.instance(plugin.name, plugin.options, 'worker');
        const payload = await payloadHandle(runtime.blobStore, ledger, input);
        const request = requestView(
          ledger,
          input.request_meta,
          Context.current().cancellationSignal,
        );
        return (await withHeartbeat(() => instance.worker!.scan(payload, request))) ?? {};
      });

      if (result.results !== undefined) {
        await ledger.putWorkerResult(descriptor.payload_id, plugin.name, result.results);
      }
      const extracted = await storeExtracted(runtime, ledger, input, result.extracted ?? []);
      log.debug({ extracted: extracted?.count ?? 0 }, 'worker finished');

      return {
        dispatch_to: result.dispatch_to ?? [],
        errors: errorEntries(result.errors, plugin.name, descriptor.payload_id),
        extracted,
      };
    },

    async archivePayload(input: ArchiverInput): Promise<ArchiverOutcome> {
      const ledger = new ScanLedger(runtime.blobStore, input.scan_id);
      const result = await asPluginCall(async () => {
        const instance = await runtime.plugins.instance(
          input.plugin.name,
          input.plugin.options,
          'archiver',
        );
        if (!instance.archiver!.archive) {
          throw new PluginUnavailableError(
            `plugin "${input.plugin.name}" cannot archive (no archive hook)`,
          );
        }
        const payload = await payloadHandle(runtime.blobStore, ledger, input);
        return (
          (await instance.archiver!.archive(payload, requestView(ledger, input.request_meta))) ?? {}
        );
      });
      return {
        results: result.results ?? null,
        errors: errorEntries(result.errors, input.plugin.name, input.payload.payload_id),
      };
    },
  };
}

/** Stores extracted content and lists it in the ledger; returns what the workflow needs. */
async function storeExtracted(
  runtime: ActivityRuntime,
  ledger: ScanLedger,
  input: WorkerInput,
  extracted: ExtractedPayload[],
): Promise<ExtractionListing | undefined> {
  if (extracted.length === 0) return undefined;
  const descriptors: ExtractedDescriptor[] = [];

  for (const [index, item] of extracted.entries()) {
    const content = item.content;
    const ref =
      Buffer.isBuffer(content) || content instanceof Uint8Array
        ? await runtime.blobStore.putBuffer(content)
        : await runtime.blobStore.putStream(content as Readable);
    const meta = payloadMetaSchema.safeParse(item.payload_meta ?? {});
    if (!meta.success) {
      throw ApplicationFailure.nonRetryable(
        `worker returned invalid payload_meta for extracted item ${index}: ${meta.error.message}`,
        'PluginError',
      );
    }
    const payloadId = payloadIdFor(input.scan_id, ref.sha256);
    const recorded = (await ledger.record(payloadId)) !== undefined;
    descriptors.push({
      ...ref,
      payload_id: payloadId,
      payload_meta: meta.data,
      index,
      ...(recorded && { recorded }),
    });
    if (index % 100 === 0) Context.current().heartbeat();
  }

  const chunks = await ledger.putExtractedListing(
    input.payload.payload_id,
    input.plugin.name,
    descriptors,
  );

  const inline = descriptors.length <= INLINE_EXTRACTIONS ? descriptors : undefined;
  return { worker: input.plugin.name, count: descriptors.length, chunks, inline };
}

/**
 * Heartbeats while a plugin works, so a crashed worker is noticed within the heartbeat
 * timeout and a cancellation reaches the activity. Once cancelled, the activity stops
 * waiting for the plugin (which was told through the request's signal).
 */
async function withHeartbeat<T>(call: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const every = Math.max(1000, (context.info.heartbeatTimeoutMs ?? 30000) / 3);
  const timer = setInterval(() => context.heartbeat(), every);
  try {
    return await Promise.race([call(), context.cancelled]);
  } finally {
    clearInterval(timer);
  }
}

function errorEntries(
  errors: string[] | undefined,
  pluginName: string,
  payloadId: string,
): StoqError[] {
  return (errors ?? []).map((error) => ({ error, plugin_name: pluginName, payload_id: payloadId }));
}

function errorEntry(error: unknown, pluginName: string, payloadId: string | null): StoqError {
  const message = error instanceof Error ? error.message : String(error);
  return { error: message, plugin_name: pluginName, payload_id: payloadId };
}

export type { WorkerResult };
