/**
 * Workflow histories to and from Temporal's JSON history format (the one `temporal workflow
 * show --output json` and the Web UI download write), for the replay fixtures.
 *
 * The SDK's converters need a single copy of protobufjs 8 for all @temporalio packages; the
 * project depends on protobufjs 8 directly for that reason (gRPC keeps its own protobufjs 7).
 */
import type { temporal } from '@temporalio/proto';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';

type History = temporal.api.history.v1.IHistory;

/** A history as JSON text; `space` indents it, as for JSON.stringify. */
export function historyToJson(history: History, space?: number): string {
  const text = historyToJSON(history);
  return space === undefined ? text : JSON.stringify(JSON.parse(text), null, space);
}

/** A history from parsed JSON, ready for Worker.runReplayHistories. */
export function historyFromJson(json: unknown): History {
  const events = (json as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0)
    throw new TypeError('not a history: no events');
  return historyFromJSON(json);
}
