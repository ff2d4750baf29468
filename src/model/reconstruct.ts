/**
 * Sub-responses, as stoQ v3's `reconstruct_all_subresponses`: each payload of a response
 * as the root of a response of its own, holding it and everything extracted from it
 * (transitively). Useful to index an attachment's analysis on its own, or to alert on an
 * inner file without the envelope around it.
 */
import type { DecoratorHooks } from '../plugins/api';
import type { StoqResponse } from './schemas';

/** One sub-response per payload, in the order of `response.results`. Pure. */
export function subResponses(response: StoqResponse): StoqResponse[] {
  return response.results.map((root, index) => {
    const members = new Set([root.payload_id]);
    const results = [root];

    // Results are in scan order (parents before what they extracted), so one pass suffices.
    for (const candidate of response.results.slice(index + 1)) {
      if (
        candidate.extracted_from.some((parent) => members.has(parent)) &&
        !members.has(candidate.payload_id)
      ) {
        members.add(candidate.payload_id);
        results.push(candidate);
      }
    }

    const errors = response.errors.filter(
      (error) => error.payload_id === null || members.has(error.payload_id),
    );
    return structuredClone({ ...response, results, errors, decorators: {} });
  });
}

/**
 * Sub-responses with the decorators run again on each, as stoQ does. A failing decorator
 * becomes an error entry of that sub-response.
 */
export async function reconstructSubResponses(
  response: StoqResponse,
  decorators: Record<string, DecoratorHooks>,
): Promise<StoqResponse[]> {
  const parts = subResponses(response);
  for (const part of parts) {
    for (const [name, decorator] of Object.entries(decorators)) {
      try {
        const outcome = (await decorator.decorate(part)) ?? {};
        if (outcome.results !== undefined) part.decorators[name] = outcome.results;
        for (const error of outcome.errors ?? [])
          part.errors.push({ error, plugin_name: name, payload_id: null });
      } catch (error) {
        part.errors.push({ error: (error as Error).message, plugin_name: name, payload_id: null });
      }
    }
  }
  return parts;
}
