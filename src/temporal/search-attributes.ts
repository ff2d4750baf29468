/**
 * Registering stoQ's search attributes on a namespace: at every local dev server start
 * (the start flag alone only applies to a new database file) and by `stoq setup` on a
 * cluster. Registration is idempotent.
 */
import type { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { STOQ_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(
    Object.keys({ ...existing.customAttributes, ...existing.systemAttributes }),
  );
  const missing = STOQ_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];

  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
    ),
  });
  return missing.map((key) => key.name);
}

/** The `--search-attribute` flags for `temporal server start-dev` (a new database file). */
export function devServerSearchAttributeArgs(): string[] {
  return STOQ_SEARCH_ATTRIBUTES.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${devServerTypeName(key.type)}`,
  ]);
}

function devServerTypeName(type: string): string {
  const names: Record<string, string> = {
    KEYWORD: 'Keyword',
    KEYWORD_LIST: 'KeywordList',
    BOOL: 'Bool',
    INT: 'Int',
    TEXT: 'Text',
    DOUBLE: 'Double',
    DATETIME: 'Datetime',
  };
  return names[type];
}
