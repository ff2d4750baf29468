/**
 * Key rules shared by every blob store implementation, so a blob has the same key
 * layout on a local disk and in a bucket.
 */

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Thrown when a caller passes something that is not a lowercase hex SHA-256 as a blob key. */
export class InvalidBlobKeyError extends Error {
  constructor(readonly value: unknown) {
    super(`invalid blob key ${describe(value)}: expected 64 lowercase hex digits (SHA-256)`);
    this.name = 'InvalidBlobKeyError';
  }
}

/** Rejects anything but 64 lowercase hex digits: a blob key must never become a path. */
export function assertSha256(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !SHA256_PATTERN.test(value)) {
    throw new InvalidBlobKeyError(value);
  }
}

/** `ab/cd/<sha256>`: two levels of 256 shards keep directories small at millions of blobs. */
export function shardedBlobKey(sha256: string): string {
  assertSha256(sha256);
  return `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return `of type ${typeof value}`;

  // The value may be hostile and huge; an error message only needs its start.
  const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return JSON.stringify(shown);
}
