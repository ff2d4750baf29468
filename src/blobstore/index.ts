/**
 * Opening a blob store from configuration. Each kind of store is one member of the
 * config union: `filesystem` (one machine, or a shared mount) or `s3` (a bucket that
 * workers on several machines share).
 *
 * @example
 * const store = openBlobStore({ kind: 'filesystem', root: '/var/lib/stoq' });
 * const shared = openBlobStore({ kind: 's3', bucket: 'stoq', endpoint: 'http://minio:9000' });
 * const ref = await store.putBuffer(Buffer.from('hello'));
 */
import { z } from 'zod';
import { FilesystemBlobStore } from './filesystem';
import { S3BlobStore } from './s3';
import type { BlobStore } from './types';

export * from './types';
export { assertSha256, InvalidBlobKeyError, shardedBlobKey } from './keys';
export { FilesystemBlobStore } from './filesystem';
export { S3BlobStore, type S3BlobStoreOptions } from './s3';

export const filesystemBlobStoreConfigSchema = z.strictObject({
  kind: z.literal('filesystem'),
  /** Directory holding `blobs/`, `docs/` and `tmp/`; created on first write. */
  root: z.string().min(1),
});

export const s3BlobStoreConfigSchema = z
  .strictObject({
    kind: z.literal('s3'),
    bucket: z.string().min(1),
    /** Key prefix for `blobs/`, `docs/` and `tmp/`, so several deployments can share a bucket. */
    prefix: z.string().default(''),
    /** URL of an S3-compatible server (MinIO, Ceph, moto...); AWS when absent. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    region: z.string().min(1).default('us-east-1'),
    /** Defaults to true when `endpoint` is set: most S3-compatible servers want path style. */
    forcePathStyle: z.boolean().optional(),
    /** Both or neither; without them the SDK's default chain (env, profile, IAM role) applies. */
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    /** Local copies for `localPath()`; `<tmpdir>/stoq-s3-cache` by default. */
    cacheDir: z.string().min(1).optional(),
    listPageSize: z.number().int().min(1).max(1000).optional(),
  })
  .refine(
    (config) => (config.accessKeyId === undefined) === (config.secretAccessKey === undefined),
    {
      message: 'accessKeyId and secretAccessKey go together: set both or neither',
      path: ['secretAccessKey'],
    },
  );

export const blobStoreConfigSchema = z.discriminatedUnion('kind', [
  filesystemBlobStoreConfigSchema,
  s3BlobStoreConfigSchema,
]);
/** What {@link openBlobStore} accepts: optional keys may be left out. */
export type BlobStoreConfig = z.input<typeof blobStoreConfigSchema>;

/** Validates the config (errors name the key) and opens the store it describes. */
export function openBlobStore(config: BlobStoreConfig): BlobStore {
  const parsed = blobStoreConfigSchema.parse(config);
  switch (parsed.kind) {
    case 'filesystem':
      return new FilesystemBlobStore(parsed.root);
    case 's3':
      return new S3BlobStore(parsed);
  }
}

/** Where a store keeps its data, for messages: a directory or `s3://bucket/prefix`. Never secrets. */
export function describeBlobStore(config: BlobStoreConfig): string {
  switch (config.kind) {
    case 'filesystem':
      return config.root;
    case 's3':
      return `s3://${config.bucket}/${config.prefix ?? ''}`;
  }
}
