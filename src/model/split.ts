/**
 * Response splitting, as stoQ v3's `StoqResponse.split()`: one response per worker result,
 * for consumers that index one document per result (Elasticsearch, a queue).
 */
import type { StoqResponse } from './schemas';

/**
 * One response per (payload, worker) pair: each keeps the scan's `scan_id`, `time`,
 * `request_meta`, `errors` and `decorators`, and holds a single payload result whose
 * `workers` has that one worker's result. A payload no worker produced results for yields
 * no response, as in stoQ. Pure: the input is not modified and nothing is shared with it.
 *
 * @example
 * splitResponse(response).forEach((part) => index(part));
 */
export function splitResponse(response: StoqResponse): StoqResponse[] {
  const parts: StoqResponse[] = [];
  for (const result of response.results) {
    for (const [worker, workerResult] of Object.entries(result.workers)) {
      parts.push(
        structuredClone({
          ...response,
          results: [{ ...result, workers: { [worker]: workerResult } }],
        }),
      );
    }
  }
  return parts;
}
