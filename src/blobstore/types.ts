/**
 * The blob store: where payload content and large results live, keyed by SHA-256.
 *
 * Workflows only ever carry {@link BlobRef}s; activities read and write the bytes here.
 * Besides content, a store keeps small named documents per scan (the scan ledger), which
 * are not content-addressed: their keys are paths chosen by the framework.
 */
import type { Readable } from 'node:stream';
import type { BlobRef } from '../model/schemas';

export interface BlobStore {
  /** Stores content from a buffer. Same content twice yields the same ref and one copy. */
  putBuffer(content: Uint8Array): Promise<BlobRef>;
  /** Stores content from a stream without holding it in memory whole. */
  putStream(content: Readable): Promise<BlobRef>;
  has(sha256: string): Promise<boolean>;
  /** Throws {@link BlobNotFoundError} when absent. */
  getStream(sha256: string): Promise<Readable>;
  /** Throws {@link BlobNotFoundError} when absent, {@link BlobTooLargeError} past `maxBytes`. */
  getBuffer(sha256: string, options?: { maxBytes?: number }): Promise<Buffer>;
  /** A local file path for the content (the store's own file, or a cached copy). */
  localPath(sha256: string): Promise<string>;

  /** Writes a named document (JSON text) atomically; the last write wins. */
  putDocument(key: string, body: string): Promise<void>;
  /** Reads a named document, or undefined when absent. */
  getDocument(key: string): Promise<string | undefined>;
  /** Lists document keys under a prefix (recursively), sorted. */
  listDocuments(prefix: string): Promise<string[]>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly sha256: string) {
    super(`blob ${sha256} is not in the blob store`);
    this.name = 'BlobNotFoundError';
  }
}

export class BlobTooLargeError extends Error {
  constructor(
    readonly sha256: string,
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(`blob ${sha256} is ${size} bytes, over the ${maxBytes} byte limit for reading it whole`);
    this.name = 'BlobTooLargeError';
  }
}

/** Document keys are framework-chosen paths; reject anything that could escape the store. */
export function assertSafeDocumentKey(key: string): void {
  const segments = key.split('/');
  const bad = segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\'));
  if (bad || key.includes('\0')) {
    throw new Error(`invalid document key "${key}": expected relative path segments`);
  }
}
