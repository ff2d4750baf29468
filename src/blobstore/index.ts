/**
 * Opening a blob store from configuration. Each kind of store is one member of the
 * config union; an S3-compatible store joins here as `kind: 's3'`.
 *
 * @example
 * const store = openBlobStore({ kind: 'filesystem', root: '/var/lib/stoq' });
 * const ref = await store.putBuffer(Buffer.from('hello'));
 */
import { z } from 'zod';
import { FilesystemBlobStore } from './filesystem';
import type { BlobStore } from './types';

export * from './types';
export { assertSha256, InvalidBlobKeyError, shardedBlobKey } from './keys';
export { FilesystemBlobStore } from './filesystem';

export const filesystemBlobStoreConfigSchema = z.strictObject({
  kind: z.literal('filesystem'),
  /** Directory holding `blobs/`, `docs/` and `tmp/`; created on first write. */
  root: z.string().min(1),
});

export const blobStoreConfigSchema = z.discriminatedUnion('kind', [
  filesystemBlobStoreConfigSchema,
]);
export type BlobStoreConfig = z.infer<typeof blobStoreConfigSchema>;

/** Validates the config (errors name the key) and opens the store it describes. */
export function openBlobStore(config: BlobStoreConfig): BlobStore {
  const parsed = blobStoreConfigSchema.parse(config);
  switch (parsed.kind) {
    case 'filesystem':
      return new FilesystemBlobStore(parsed.root);
  }
}
