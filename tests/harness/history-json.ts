/**
 * Workflow histories to and from Temporal's JSON history format (the one `temporal workflow
 * show --output json` and the Web UI download write), for the replay fixtures.
 *
 * TODO(replay): the SDK's own historyToJSON/historyFromJSON (@temporalio/common/lib/proto-utils)
 * throw "type must be a Type" in this install: protobufjs 8 sits twice in node_modules (under
 * @temporalio/common and @temporalio/proto, as the root holds protobufjs 7 for gRPC), and its
 * protojson checks `instanceof Type` across the two copies. So does Worker.runReplayHistory
 * given JSON, which converts through historyFromJSON. Converting here with the protobufjs copy
 * that @temporalio/proto loads works whatever the layout; a deduplicated protobufjs 8 would let
 * this module go.
 */
import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(
  require.resolve('protobufjs/ext/protojson', { paths: [protoDir] }),
) as ProtoJson;
const historyType = (
  patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }
).lookupType('temporal.api.history.v1.History');

/** A history as JSON text; `space` indents it, as for JSON.stringify. */
export function historyToJson(history: History, space?: number): string {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return JSON.stringify(protojson.toJson(historyType, message), null, space);
}

/**
 * A history from parsed JSON, ready for Worker.runReplayHistories. Fields unknown to this
 * SDK (a history from a newer server) are ignored, as the SDK's own reader does.
 */
export function historyFromJson(json: unknown): History {
  const events = (json as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0)
    throw new TypeError('not a history: no events');
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}
