/**
 * Identifiers. A payload's id is derived from the scan id and its SHA-256, so the same
 * content gets the same id on every retry and replay of a scan, and differs across scans.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';

export const scanIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    'expected 1-128 letters, digits, ".", "_", ":" or "-"',
  );

export function newScanId(): string {
  return randomUUID();
}

/** A UUID-shaped id (version 8, name-based) for a payload of a scan. */
export function payloadIdFor(scanId: string, sha256: string): string {
  return nameBasedUuid(`stoq-payload:${scanId}:${sha256}`);
}

/** A UUID (version 8) derived from a name: the same name always gives the same id. */
export function nameBasedUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `8${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}
