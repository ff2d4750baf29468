/**
 * The S3 blob store against a real S3-compatible server (moto), the same behaviours as the
 * filesystem store's unit tests where they apply, and a whole scan with the bucket as store.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  InvalidBlobKeyError,
  openBlobStore,
  S3BlobStore,
  type S3BlobStoreOptions,
} from '../../src/blobstore';
import { startS3Server, type S3Server } from '../harness/s3';
import { ScanEnv } from '../harness/stoq';
import { testPlugins } from '../plugins';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

let server: S3Server;
let admin: S3Client;
let bucket: string;
let cacheDir: string;

beforeAll(async () => {
  server = await startS3Server();
  admin = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    // A copy: the SDK annotates the credentials object it is given.
    credentials: { ...CREDENTIALS },
  });
});

afterAll(async () => {
  admin?.destroy();
  await server?.stop();
});

beforeEach(async () => {
  bucket = `stoq-${randomUUID()}`;
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stoq-s3-cache-test-'));
});

afterEach(async () => {
  await fs.rm(cacheDir, { recursive: true, force: true });
});

function newStore(options: Partial<S3BlobStoreOptions> = {}): S3BlobStore {
  return new S3BlobStore({
    bucket,
    endpoint: server.endpoint,
    accessKeyId: CREDENTIALS.accessKeyId,
    secretAccessKey: CREDENTIALS.secretAccessKey,
    cacheDir,
    ...options,
  });
}

/** Every object key in the test's bucket, sorted. */
async function objectKeys(): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await admin.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

function sha256Of(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function blobKey(sha256: string, prefix = ''): string {
  return `${prefix}blobs/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

/** A stream of `content` in small chunks, yielding to the event loop so writers interleave. */
function chunked(content: Buffer, chunkSize = 64 * 1024): Readable {
  return Readable.from(
    (async function* () {
      for (let at = 0; at < content.length; at += chunkSize) {
        await new Promise((resolve) => setImmediate(resolve));
        yield content.subarray(at, at + chunkSize);
      }
    })(),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('S3BlobStore content', () => {
  it('stores the same content twice as one object under one ref', async () => {
    const store = newStore({ prefix: 'team-a' });
    const content = Buffer.from('MZ\x90\x00 not really a PE, but bytes all the same');

    const first = await store.putBuffer(content);
    const second = await store.putBuffer(Buffer.from(content));
    const third = await store.putStream(chunked(content, 7));

    const sha256 = sha256Of(content);
    expect(first).toEqual({ sha256, size: content.length });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(await objectKeys()).toEqual([blobKey(sha256, 'team-a/')]);
  });

  it('stores empty content and strings as their UTF-8 bytes', async () => {
    const store = newStore();

    const empty = await store.putStream(Readable.from([]));
    const text = await store.putStream(Readable.from(['Subject: hi\r\n', '\r\n', 'héllo']));

    expect(empty).toEqual({ sha256: sha256Of(Buffer.alloc(0)), size: 0 });
    expect(await store.getBuffer(empty.sha256)).toEqual(Buffer.alloc(0));
    expect(await store.getBuffer(text.sha256)).toEqual(Buffer.from('Subject: hi\r\n\r\nhéllo'));
  });

  it('streams content over several multipart parts and reads it back every way', async () => {
    const store = newStore();
    // Over two 5 MiB parts: the upload goes multipart rather than as one PutObject.
    const content = randomBytes(11 * 1024 * 1024);

    const ref = await store.putStream(chunked(content, 256 * 1024));

    expect(ref).toEqual({ sha256: sha256Of(content), size: content.length });
    expect(sha256Of(await readAll(await store.getStream(ref.sha256)))).toBe(ref.sha256);
    expect(sha256Of(await store.getBuffer(ref.sha256))).toBe(ref.sha256);
    expect(await store.has(ref.sha256)).toBe(true);
    expect(await objectKeys()).toEqual([blobKey(ref.sha256)]);
  });

  it('keeps one intact object when 8 writers stream the same 5 MB at once', async () => {
    const store = newStore();
    const content = randomBytes(5 * 1024 * 1024);
    const sha256 = sha256Of(content);

    const refs = await Promise.all(
      Array.from({ length: 8 }, () => store.putStream(chunked(content, 512 * 1024))),
    );

    expect(new Set(refs.map((r) => JSON.stringify(r)))).toEqual(
      new Set([JSON.stringify({ sha256, size: content.length })]),
    );
    expect(await objectKeys()).toEqual([blobKey(sha256)]);
    expect(sha256Of(await store.getBuffer(sha256))).toBe(sha256);
  });

  it('throws and leaves no temp object when the source stream fails midway', async () => {
    const store = newStore();
    const source = Readable.from(
      (async function* () {
        // Past one part, so a multipart upload is under way when the source fails.
        yield randomBytes(3 * 1024 * 1024);
        yield randomBytes(3 * 1024 * 1024);
        throw new Error('connection reset by the submitter');
      })(),
    );

    await expect(store.putStream(source)).rejects.toThrow('connection reset by the submitter');
    expect(await objectKeys()).toEqual([]);
    const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('throws and leaves no temp object when the source yields something other than bytes', async () => {
    const store = newStore();
    const source = Readable.from([Buffer.from('ok'), { not: 'bytes' }]);

    await expect(store.putStream(source)).rejects.toThrow(/expected bytes/);
    expect(await objectKeys()).toEqual([]);
  });

  it('reports a missing blob as BlobNotFoundError', async () => {
    const store = newStore();
    const absent = sha256Of(Buffer.from('never stored'));

    expect(await store.has(absent)).toBe(false);
    await expect(store.getStream(absent)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.getBuffer(absent)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.localPath(absent)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('surfaces a missing bucket as an error, not as a missing blob', async () => {
    const store = newStore({ bucket: `absent-${randomUUID()}` });

    await expect(store.getBuffer('a'.repeat(64))).rejects.not.toBeInstanceOf(BlobNotFoundError);
    await expect(store.putBuffer(Buffer.from('x'))).rejects.toThrow(/bucket/i);
  });

  it('refuses to read a blob whole past maxBytes, and reads it at the limit', async () => {
    const store = newStore();
    const ref = await store.putBuffer(randomBytes(1000));

    const tooLarge = store.getBuffer(ref.sha256, { maxBytes: 999 });
    await expect(tooLarge).rejects.toBeInstanceOf(BlobTooLargeError);
    await expect(tooLarge).rejects.toMatchObject({ size: 1000, maxBytes: 999 });
    expect(await store.getBuffer(ref.sha256, { maxBytes: 1000 })).toHaveLength(1000);
  });

  it.each([
    ['uppercase hex', 'A'.repeat(64)],
    ['a path traversal', `../../../../etc/${'a'.repeat(48)}`],
    ['empty', ''],
  ])('rejects a key that is %s', async (_label, key) => {
    const store = newStore();

    await expect(store.has(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    await expect(store.getStream(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    await expect(store.getBuffer(key)).rejects.toThrow(/expected 64 lowercase hex digits/);
    await expect(store.localPath(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
  });

  it('downloads a local copy once into the cache, read-only, and replaces a damaged one', async () => {
    const store = newStore();
    const content = randomBytes(200 * 1024);
    const ref = await store.putBuffer(content);

    const file = await store.localPath(ref.sha256);
    const firstStat = await fs.stat(file);
    const again = await store.localPath(ref.sha256);

    expect(file).toBe(path.join(cacheDir, ref.sha256));
    expect(again).toBe(file);
    expect((await fs.stat(again)).ino).toBe(firstStat.ino);
    expect(sha256Of(await fs.readFile(file))).toBe(ref.sha256);
    expect(firstStat.mode & 0o777).toBe(0o444);
    expect(await fs.readdir(cacheDir)).toEqual([ref.sha256]);

    await fs.chmod(file, 0o644);
    await fs.writeFile(file, content.subarray(0, 10));
    expect(sha256Of(await fs.readFile(await store.localPath(ref.sha256)))).toBe(ref.sha256);
  });
});

describe('S3BlobStore documents', () => {
  it('round-trips a document and keeps the last write', async () => {
    const store = newStore({ prefix: 'p/' });

    await store.putDocument('scans/s1/ledger.json', '{"v":1}');
    await store.putDocument('scans/s1/ledger.json', '{"v":2,"name":"naïve"}');

    expect(await store.getDocument('scans/s1/ledger.json')).toBe('{"v":2,"name":"naïve"}');
    expect(await store.getDocument('scans/s2/ledger.json')).toBeUndefined();
    expect(await objectKeys()).toEqual(['p/docs/scans/s1/ledger.json']);
  });

  it('lists documents under a prefix across pages, sorted', async () => {
    const store = newStore({ listPageSize: 10 });
    const keys = Array.from({ length: 25 }, (_, i) => `scans/s1/p/${i}.json`);
    await Promise.all(keys.map((key) => store.putDocument(key, '{}')));
    await store.putDocument('scans/s10/a.json', '{}');
    await store.putDocument('other.json', '{}');

    expect(await store.listDocuments('scans/s1')).toEqual([...keys].sort());
    expect(await store.listDocuments('scans/s1/')).toEqual([...keys].sort());
    expect(await store.listDocuments('')).toEqual(
      [...keys, 'scans/s10/a.json', 'other.json'].sort(),
    );
    expect(await store.listDocuments('scans/none')).toEqual([]);
  });

  it.each([
    ['a parent segment', '../escape.json'],
    ['an absolute path', '/tmp/escape.json'],
    ['an empty segment', 'scans//x.json'],
    ['a NUL byte', 'scans/x\0.json'],
  ])('rejects a document key with %s', async (_label, key) => {
    const store = newStore();

    await expect(store.putDocument(key, '{}')).rejects.toThrow(/invalid document key/);
    await expect(store.getDocument(key)).rejects.toThrow(/invalid document key/);
    await expect(store.listDocuments(key)).rejects.toThrow(/invalid document key/);
    expect(await objectKeys()).toEqual([]);
  });
});

describe('openBlobStore with kind s3', () => {
  it('opens a bucket store from its config', async () => {
    const opened = openBlobStore({
      kind: 's3',
      bucket,
      endpoint: server.endpoint,
      accessKeyId: CREDENTIALS.accessKeyId,
      secretAccessKey: CREDENTIALS.secretAccessKey,
      cacheDir,
    });

    const ref = await opened.putBuffer(Buffer.from('via the factory'));

    expect(await newStore().getBuffer(ref.sha256)).toEqual(Buffer.from('via the factory'));
  });
});

describe('a scan with the S3 store', () => {
  it('keeps the submitted and extracted payloads in the bucket', async () => {
    const store = newStore({ prefix: 'stoq/' });
    const env = await ScanEnv.start({ plugins: testPlugins, blobStore: store });
    try {
      const { response } = await env.scan('parent from a bucket', {
        start_dispatch: ['worker_a'],
        plugin_opts: { worker_a: { extract: ['child in a bucket'] } },
      });

      expect(response.errors).toEqual([]);
      expect(response.results.map((r) => r.payload_meta.extra_data)).toEqual([
        {},
        { from: 'worker_a' },
      ]);
      const keys = await objectKeys();
      for (const content of ['parent from a bucket', 'child in a bucket']) {
        expect(keys).toContain(blobKey(sha256Of(Buffer.from(content)), 'stoq/'));
      }
      expect(keys.some((k) => k.startsWith('stoq/docs/'))).toBe(true);
      expect(keys.filter((k) => k.startsWith('stoq/tmp/'))).toEqual([]);
    } finally {
      await env.close();
    }
  });
});
