/**
 * The search attributes that make scans findable in the Web UI and `stoq history`.
 *
 * Chosen for the dev server's SQLite visibility store, which has few slots per type
 * (three KeywordList among them), so each list earns its slot:
 *
 * | name              | type         | on                         | holds                              |
 * |-------------------|--------------|----------------------------|------------------------------------|
 * | StoqScanId        | Keyword      | scan and payload workflows | the scan id                        |
 * | StoqSha256        | KeywordList  | scan and payload workflows | the root's / the payload's SHA-256 |
 * | StoqFilename      | Keyword      | scan and payload workflows | the file name, when known          |
 * | StoqSource        | Keyword      | scan workflows             | request_meta.source                |
 * | StoqWorkers       | KeywordList  | scan and payload workflows | workers that ran                   |
 * | StoqYaraRules     | KeywordList  | scan workflows             | YARA rules that hit                |
 * | StoqHasErrors     | Bool         | scan and payload workflows | whether errors were recorded       |
 * | StoqPayloadCount  | Int          | scan workflows             | payloads in the response           |
 *
 * A scan's SHA-256 list holds the root only: every extracted payload is its own workflow
 * carrying its own hash and the scan id, so `StoqSha256 = 'x'` finds any payload of any
 * scan without a list that grows with the archive (search attributes are size-limited).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const StoqScanId = defineSearchAttributeKey('StoqScanId', SearchAttributeType.KEYWORD);
export const StoqSha256 = defineSearchAttributeKey('StoqSha256', SearchAttributeType.KEYWORD_LIST);
export const StoqFilename = defineSearchAttributeKey('StoqFilename', SearchAttributeType.KEYWORD);
export const StoqSource = defineSearchAttributeKey('StoqSource', SearchAttributeType.KEYWORD);
export const StoqWorkers = defineSearchAttributeKey(
  'StoqWorkers',
  SearchAttributeType.KEYWORD_LIST,
);
export const StoqYaraRules = defineSearchAttributeKey(
  'StoqYaraRules',
  SearchAttributeType.KEYWORD_LIST,
);
export const StoqHasErrors = defineSearchAttributeKey('StoqHasErrors', SearchAttributeType.BOOL);
export const StoqPayloadCount = defineSearchAttributeKey(
  'StoqPayloadCount',
  SearchAttributeType.INT,
);

export const STOQ_SEARCH_ATTRIBUTES = [
  StoqScanId,
  StoqSha256,
  StoqFilename,
  StoqSource,
  StoqWorkers,
  StoqYaraRules,
  StoqHasErrors,
  StoqPayloadCount,
] as const;

/** Keyword values are capped by the server; file names from payloads can be anything. */
export function keywordValue(value: string): string {
  return value.length > 200 ? value.slice(0, 200) : value;
}
