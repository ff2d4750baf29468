/**
 * The stoQ v3 data model as zod schemas.
 *
 * Field names are stoQ's on purpose (snake_case): the JSON a scan prints and connectors
 * save must keep working with existing consumers (Elasticsearch mappings, templates,
 * dashboards). Defaults match stoQ v3's constructors, so a partial object parses into
 * the full shape.
 */
import { z } from 'zod';

/** Free-form, JSON-serialisable data: plugin results, extra_data, dispatcher meta. */
export const jsonObject = z.record(z.string(), z.unknown());
export type JsonObject = z.infer<typeof jsonObject>;

export const payloadMetaSchema = z.object({
  should_archive: z.boolean().default(true),
  should_scan: z.boolean().default(true),
  extra_data: jsonObject.default({}),
  dispatch_to: z.array(z.string()).default([]),
});
export type PayloadMeta = z.infer<typeof payloadMetaSchema>;

export const requestMetaSchema = z.object({
  archive_payloads: z.boolean().default(true),
  source: z.string().nullable().default(null),
  extra_data: jsonObject.default({}),
});
export type RequestMeta = z.infer<typeof requestMetaSchema>;

/** One failure recorded in a response: a plugin that raised, a limit that was hit. */
export const stoqErrorSchema = z.object({
  error: z.string(),
  plugin_name: z.string().nullable().default(null),
  payload_id: z.string().nullable().default(null),
});
export type StoqError = z.infer<typeof stoqErrorSchema>;

export const pluginsRunSchema = z.object({
  workers: z.array(z.string()).default([]),
  archivers: z.array(z.string()).default([]),
});

export const payloadResultsSchema = z.object({
  payload_id: z.string(),
  size: z.number().int().nonnegative(),
  payload_meta: payloadMetaSchema.default(() => payloadMetaSchema.parse({})),
  extracted_from: z.array(z.string()).default([]),
  extracted_by: z.array(z.string()).default([]),
  workers: z.record(z.string(), z.unknown()).default({}),
  plugins_run: pluginsRunSchema.default(() => pluginsRunSchema.parse({})),
  archivers: z.record(z.string(), z.unknown()).default({}),
});
export type PayloadResults = z.infer<typeof payloadResultsSchema>;

export const stoqResponseSchema = z.object({
  scan_id: z.string(),
  time: z.string(),
  results: z.array(payloadResultsSchema).default([]),
  request_meta: requestMetaSchema.default(() => requestMetaSchema.parse({})),
  errors: z.array(stoqErrorSchema).default([]),
  decorators: z.record(z.string(), z.unknown()).default({}),
});
export type StoqResponse = z.infer<typeof stoqResponseSchema>;

/** What a worker plugin returns from one scan of one payload (stoQ's WorkerResponse). */
export const workerResponseSchema = z.object({
  results: z.unknown().optional(),
  extracted: z.array(z.unknown()).default([]),
  errors: z.array(z.string()).default([]),
  dispatch_to: z.array(z.string()).default([]),
});

export const dispatcherResponseSchema = z.object({
  plugin_names: z.array(z.string()).default([]),
  meta: jsonObject.default({}),
  errors: z.array(z.string()).default([]),
});
export type DispatcherResponse = z.infer<typeof dispatcherResponseSchema>;

export const archiverResponseSchema = z.object({
  results: jsonObject.nullable().default(null),
  errors: z.array(z.string()).default([]),
});
export type ArchiverResponse = z.infer<typeof archiverResponseSchema>;

export const decoratorResponseSchema = z.object({
  results: z.unknown().optional(),
  errors: z.array(z.string()).default([]),
});
export type DecoratorResponse = z.infer<typeof decoratorResponseSchema>;

/**
 * A reference to content in the blob store. This, never the bytes, is what crosses
 * Temporal's history.
 */
export const blobRefSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex SHA-256'),
  size: z.number().int().nonnegative(),
});
export type BlobRef = z.infer<typeof blobRefSchema>;

/** A payload as the framework tracks it: its content by reference, plus stoQ's metadata. */
export const payloadDescriptorSchema = blobRefSchema.extend({
  payload_id: z.string(),
  payload_meta: payloadMetaSchema,
  extracted_by: z.array(z.string()).default([]),
  extracted_from: z.array(z.string()).default([]),
});
export type PayloadDescriptor = z.infer<typeof payloadDescriptorSchema>;

/** An extracted payload after its content went to the blob store: ref plus its meta. */
export const extractedRefSchema = blobRefSchema.extend({
  payload_meta: payloadMetaSchema,
});
export type ExtractedRef = z.infer<typeof extractedRefSchema>;

/** A request as stoQ models it: payloads plus request meta; the framework's submission unit. */
export const requestSchema = z.object({
  payloads: z.array(payloadDescriptorSchema),
  request_meta: requestMetaSchema,
  errors: z.array(stoqErrorSchema).default([]),
});
export type Request = z.infer<typeof requestSchema>;
