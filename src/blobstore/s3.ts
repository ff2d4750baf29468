/**
 * The blob store in an S3 bucket (AWS S3 or any S3-compatible server): what workers on
 * several machines share.
 *
 * Layout under the key prefix:
 * - `blobs/ab/cd/<sha256>`: content, written once; the same layout as on a filesystem;
 * - `docs/<key>`: named documents such as the scan ledger, replaced as a whole;
 * - `tmp/<random>`: streamed uploads whose SHA-256 is not known yet. Once the stream ends
 *   they are copied to their content address and deleted. Readers never see a partial
 *   object: S3 makes an object visible only when its upload or copy completes.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BlobRef } from '../model/schemas';
import { hashingStage } from './hashing';
import { shardedBlobKey } from './keys';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  assertSafeDocumentKey,
  type BlobStore,
} from './types';

/** Options of {@link S3BlobStore}; credentials default to the SDK's provider chain. */
export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix for everything this store writes; a missing trailing `/` is added. */
  prefix?: string;
  /** URL of an S3-compatible server; AWS's own endpoint when absent. */
  endpoint?: string;
  region?: string;
  /** `bucket` in the path rather than the host name; defaults to true with `endpoint`. */
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Where `localPath()` keeps downloaded copies; `<tmpdir>/stoq-s3-cache` by default. */
  cacheDir?: string;
  /** Keys per ListObjectsV2 page (S3's maximum is 1000); smaller only in tests. */
  listPageSize?: number;
}

// S3's minimum part size; lib-storage holds up to QUEUE_SIZE parts in memory at once.
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;
// CopyObject copies at most 5 GiB in one request.
const MAX_SINGLE_COPY_BYTES = 5 * 1024 * 1024 * 1024;
// Read-only so that a plugin handed `localPath()` cannot alter content other scans share.
const CACHE_FILE_MODE = 0o444;

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly cacheDir: string;
  private readonly listPageSize: number;

  constructor(options: S3BlobStoreOptions) {
    this.client = new S3Client(clientConfig(options));
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix ?? '');
    this.cacheDir = path.resolve(options.cacheDir ?? path.join(os.tmpdir(), 'stoq-s3-cache'));
    this.listPageSize = options.listPageSize ?? 1000;
  }

  async putBuffer(content: Uint8Array): Promise<BlobRef> {
    const sha256 = createHash('sha256').update(content).digest('hex');
    const ref = { sha256, size: content.byteLength };
    if (await this.holds(ref)) return ref;

    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.blobKey(sha256), Body: content }),
    );
    return ref;
  }

  async putStream(content: Readable): Promise<BlobRef> {
    const tmpKey = `${this.prefix}tmp/${randomBytes(16).toString('hex')}`;
    try {
      const ref = await this.uploadHashing(content, tmpKey);
      await this.commitBlob(tmpKey, ref);
      return ref;
    } finally {
      await this.deleteQuietly(tmpKey);
    }
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.sizeOf(sha256)) !== undefined;
  }

  async getStream(sha256: string): Promise<Readable> {
    const output = await this.getBlob(sha256);
    return output.Body as Readable;
  }

  async getBuffer(sha256: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    // One GET rather than HEAD then GET: its headers carry the size before any body is read.
    const output = await this.getBlob(sha256);
    const body = output.Body as Readable;
    const size = output.ContentLength ?? 0;
    const { maxBytes } = options;
    if (maxBytes !== undefined && size > maxBytes) {
      body.destroy();
      throw new BlobTooLargeError(sha256, size, maxBytes);
    }

    return Buffer.from(await output.Body!.transformToByteArray());
  }

  async localPath(sha256: string): Promise<string> {
    const size = await this.sizeOf(sha256);
    if (size === undefined) throw new BlobNotFoundError(sha256);

    const file = path.join(this.cacheDir, sha256);
    const cached = await fs.stat(file).catch(() => undefined);
    if (cached?.isFile() && cached.size === size) return file;

    await this.download(sha256, file);
    return file;
  }

  async putDocument(key: string, body: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.documentKey(key),
        Body: body,
        ContentType: 'application/json; charset=utf-8',
      }),
    );
  }

  async getDocument(key: string): Promise<string | undefined> {
    const objectKey = this.documentKey(key);
    try {
      const output = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }),
      );
      return await output.Body!.transformToString('utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async listDocuments(prefix: string): Promise<string[]> {
    // One trailing slash is tolerated ("scans/abc/"); anything else must be a safe key.
    const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    const docsRoot = `${this.prefix}docs/`;
    const listPrefix = base === '' ? docsRoot : `${this.documentKey(base)}/`;

    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: listPrefix,
          MaxKeys: this.listPageSize,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) keys.push(object.Key.slice(docsRoot.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  private blobKey(sha256: string): string {
    return `${this.prefix}blobs/${shardedBlobKey(sha256)}`;
  }

  private documentKey(key: string): string {
    assertSafeDocumentKey(key);
    return `${this.prefix}docs/${key}`;
  }

  /** The object's size, or undefined when absent. */
  private async sizeOf(sha256: string): Promise<number | undefined> {
    const key = this.blobKey(sha256);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** True when the blob is in place whole; a size mismatch (a damaged copy) counts as absent. */
  private async holds(ref: BlobRef): Promise<boolean> {
    return (await this.sizeOf(ref.sha256)) === ref.size;
  }

  private async getBlob(sha256: string): Promise<GetObjectCommandOutput> {
    const key = this.blobKey(sha256);
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(sha256);
      throw err;
    }
  }

  /**
   * Streams `source` into a multipart upload at `tmpKey`, hashing and counting on the way.
   * A failure on either side stops the other, so neither waits forever.
   */
  private async uploadHashing(source: Readable, tmpKey: string): Promise<BlobRef> {
    const hashing = hashingStage();
    const body = new PassThrough();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: tmpKey, Body: body },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
    });
    const feeding = pipeline(source, hashing.measure, body);
    const uploading = upload.done().catch((err: unknown) => {
      body.destroy(err as Error);
      throw err;
    });

    const [fed, uploaded] = await Promise.allSettled([feeding, uploading]);
    if (fed.status === 'rejected') throw fed.reason;
    if (uploaded.status === 'rejected') throw uploaded.reason;
    return hashing.ref();
  }

  /**
   * Copies a complete temp object to its content address unless it is there already.
   * Concurrent writers of the same content may both copy; each copy replaces identical
   * bytes atomically, and readers of the earlier object keep reading it.
   */
  private async commitBlob(tmpKey: string, ref: BlobRef): Promise<void> {
    if (await this.holds(ref)) return;

    // TODO(blobstore): CopyObject stops at 5 GiB; larger content needs a multipart copy
    // (UploadPartCopy). Until then such a stream is refused with this error.
    if (ref.size > MAX_SINGLE_COPY_BYTES) {
      throw new Error(
        `blob ${ref.sha256} is ${ref.size} bytes; the S3 blob store stores at most 5 GiB per stream`,
      );
    }
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: this.blobKey(ref.sha256),
        CopySource: `${this.bucket}/${encodeKey(tmpKey)}`,
      }),
    );
  }

  /** Downloads into the cache via a temp file and a rename, checking the digest on the way. */
  private async download(sha256: string, file: string): Promise<void> {
    await fs.mkdir(this.cacheDir, { recursive: true });
    const tmp = path.join(this.cacheDir, `.${randomBytes(16).toString('hex')}.tmp`);
    try {
      const hash = createHash('sha256');
      const digest = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
        for await (const chunk of chunks) {
          hash.update(chunk);
          yield chunk;
        }
      };
      const handle = await fs.open(tmp, 'wx', CACHE_FILE_MODE);
      await pipeline(await this.getStream(sha256), digest, handle.createWriteStream());

      const actual = hash.digest('hex');
      if (actual !== sha256) {
        throw new Error(`blob ${sha256} downloaded from the bucket has SHA-256 ${actual}`);
      }
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  // TODO(blobstore): a process killed mid-upload leaves its tmp/ object (and S3 may keep
  // parts of an unfinished multipart upload); a bucket lifecycle rule on tmp/ cleans both.
  private async deleteQuietly(key: string): Promise<void> {
    await this.client
      .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))
      .catch(() => undefined);
  }
}

function clientConfig(options: S3BlobStoreOptions): S3ClientConfig {
  const config: S3ClientConfig = {
    region: options.region ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    // Checksums only where S3 requires them: many S3-compatible servers reject the rest.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.accessKeyId !== undefined && options.secretAccessKey !== undefined) {
    config.credentials = {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
    };
  }
  return config;
}

function normalizePrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** CopySource is a URL path: each segment encoded, the slashes kept. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/**
 * HeadObject reports a 404 as `NotFound` (it has no body to name it), GetObject as
 * `NoSuchKey`. A bare 404 status is not enough: `NoSuchBucket` is a setup error to surface.
 */
function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'NotFound' || name === 'NoSuchKey';
}
