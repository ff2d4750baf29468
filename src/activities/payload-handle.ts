/**
 * The payload and request objects plugins receive, built on the blob store: content is
 * read only when a plugin asks for it, and results of other payloads only on demand.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { BlobStore } from '../blobstore/types';
import type { PayloadDescriptor, PayloadResults, RequestMeta } from '../model/schemas';
import type { Payload, RequestView } from '../plugins/api';
import { assembleResults } from '../scan/assemble';
import type { ScanLedger } from '../scan/ledger';

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

export interface PayloadHandleInput {
  payload: PayloadDescriptor;
  dispatch_meta: Record<string, Record<string, unknown>>;
  workers_run: string[];
  archivers_run?: string[];
}

export async function payloadHandle(
  store: BlobStore,
  ledger: ScanLedger,
  input: PayloadHandleInput,
): Promise<Payload> {
  const { payload } = input;
  const results: PayloadResults = {
    payload_id: payload.payload_id,
    size: payload.size,
    payload_meta: payload.payload_meta,
    extracted_from: payload.extracted_from,
    extracted_by: payload.extracted_by,
    workers: await ledger.workerResults(payload.payload_id, input.workers_run),
    plugins_run: { workers: [...input.workers_run], archivers: [...(input.archivers_run ?? [])] },
    archivers: {},
  };

  return {
    payload_id: payload.payload_id,
    sha256: payload.sha256,
    size: payload.size,
    results,
    dispatch_meta: input.dispatch_meta,
    bytes: (options) =>
      store.getBuffer(payload.sha256, { maxBytes: options?.maxBytes ?? DEFAULT_MAX_BYTES }),
    stream: () => lazyStream(() => store.getStream(payload.sha256)),
    filePath: () => store.localPath(payload.sha256),
  };
}

export function requestView(
  ledger: ScanLedger,
  requestMeta: RequestMeta,
  signal?: AbortSignal,
): RequestView {
  return {
    scan_id: ledger.scanId,
    request_meta: requestMeta,
    results: async () => assembleResults(ledger, await ledger.records()),
    signal,
  };
}

/** A stream returned synchronously whose source opens asynchronously. */
function lazyStream(open: () => Promise<Readable>): Readable {
  const output = new PassThrough();
  open().then(
    (source) => {
      source.on('error', (error) => output.destroy(error));
      source.pipe(output);
    },
    (error: Error) => output.destroy(error),
  );
  return output;
}
