import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  FilesystemBlobStore,
  InvalidBlobKeyError,
  openBlobStore,
  type BlobStoreConfig,
} from '../../src/blobstore';

let root: string;
let store: FilesystemBlobStore;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'stoq-blobstore-'));
  store = new FilesystemBlobStore(root);
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function sha256Of(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
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

/** Relative paths of every regular file under `dir` ([] when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('FilesystemBlobStore content', () => {
  it('stores the same content twice as one file under one ref', async () => {
    const content = Buffer.from('MZ\x90\x00 not really a PE, but bytes all the same');

    const first = await store.putBuffer(content);
    const second = await store.putBuffer(Buffer.from(content));
    const third = await store.putStream(chunked(content, 7));

    const sha256 = sha256Of(content);
    expect(first).toEqual({ sha256, size: content.length });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(await filesUnder(path.join(root, 'blobs'))).toEqual([
      path.join(sha256.slice(0, 2), sha256.slice(2, 4), sha256),
    ]);
    expect(await filesUnder(path.join(root, 'tmp'))).toEqual([]);
  });

  it('stores different content under different refs', async () => {
    const a = await store.putBuffer(Buffer.from('payload a'));
    const b = await store.putStream(chunked(Buffer.from('payload b')));

    expect(a.sha256).not.toEqual(b.sha256);
    expect(await store.getBuffer(a.sha256)).toEqual(Buffer.from('payload a'));
    expect(await store.getBuffer(b.sha256)).toEqual(Buffer.from('payload b'));
    expect(await filesUnder(path.join(root, 'blobs'))).toHaveLength(2);
  });

  it('stores empty content', async () => {
    const ref = await store.putStream(Readable.from([]));

    expect(ref).toEqual({ sha256: sha256Of(Buffer.alloc(0)), size: 0 });
    expect(await store.getBuffer(ref.sha256)).toEqual(Buffer.alloc(0));
  });

  it('reads content back as a stream, a buffer and a read-only local file', async () => {
    const content = randomBytes(300 * 1024);
    const ref = await store.putStream(chunked(content));

    // Compared by digest: jest's deep equality walks a 300 KiB buffer byte by byte, slowly.
    expect(sha256Of(await readAll(await store.getStream(ref.sha256)))).toBe(sha256Of(content));
    expect(sha256Of(await store.getBuffer(ref.sha256))).toBe(sha256Of(content));

    const file = await store.localPath(ref.sha256);
    expect(file.startsWith(path.join(root, 'blobs') + path.sep)).toBe(true);
    expect(sha256Of(await fs.readFile(file))).toBe(sha256Of(content));
    expect((await fs.stat(file)).mode & 0o777).toBe(0o444);
  });

  it('accepts a stream of strings as their UTF-8 bytes', async () => {
    const ref = await store.putStream(Readable.from(['Subject: hi\r\n', '\r\n', 'héllo']));

    expect(await store.getBuffer(ref.sha256)).toEqual(Buffer.from('Subject: hi\r\n\r\nhéllo'));
  });

  it('keeps one intact file when 20 writers store the same 5 MB at once', async () => {
    const content = randomBytes(5 * 1024 * 1024);
    const sha256 = sha256Of(content);
    const torn: number[] = [];
    let writing = true;

    // A reader polling throughout must never see a partial blob.
    const reader = (async () => {
      while (writing) {
        const seen = await store.getBuffer(sha256).catch(() => undefined);
        if (seen !== undefined && sha256Of(seen) !== sha256) torn.push(seen.length);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const refs = await Promise.all(
      Array.from({ length: 20 }, () => store.putStream(chunked(content))),
    );
    writing = false;
    await reader;

    expect(new Set(refs.map((r) => JSON.stringify(r)))).toEqual(
      new Set([JSON.stringify({ sha256, size: content.length })]),
    );
    expect(torn).toEqual([]);
    expect(await filesUnder(path.join(root, 'blobs'))).toHaveLength(1);
    expect(sha256Of(await fs.readFile(await store.localPath(sha256)))).toBe(sha256);
    expect(await filesUnder(path.join(root, 'tmp'))).toEqual([]);
  });

  it('throws and leaves no temp file when the source stream fails midway', async () => {
    const source = Readable.from(
      (async function* () {
        yield randomBytes(256 * 1024);
        yield randomBytes(256 * 1024);
        throw new Error('connection reset by the submitter');
      })(),
    );

    await expect(store.putStream(source)).rejects.toThrow('connection reset by the submitter');
    expect(await filesUnder(path.join(root, 'tmp'))).toEqual([]);
    expect(await filesUnder(path.join(root, 'blobs'))).toEqual([]);
  });

  it('throws and leaves no temp file when the source yields something other than bytes', async () => {
    const source = Readable.from([Buffer.from('ok'), { not: 'bytes' }]);

    await expect(store.putStream(source)).rejects.toThrow(/expected bytes/);
    expect(await filesUnder(path.join(root, 'tmp'))).toEqual([]);
  });

  it('replaces a damaged copy when the same content is stored again', async () => {
    const content = Buffer.from('a payload whose stored copy got truncated');
    const ref = await store.putBuffer(content);
    const file = await store.localPath(ref.sha256);
    await fs.chmod(file, 0o644);
    await fs.writeFile(file, content.subarray(0, 10));

    await store.putBuffer(content);

    expect(await fs.readFile(file)).toEqual(content);
  });

  it('reports a missing blob as BlobNotFoundError', async () => {
    const absent = sha256Of(Buffer.from('never stored'));

    expect(await store.has(absent)).toBe(false);
    await expect(store.getStream(absent)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.getBuffer(absent)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.localPath(absent)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('refuses to read a blob whole past maxBytes, and reads it at the limit', async () => {
    const ref = await store.putBuffer(randomBytes(1000));

    const tooLarge = store.getBuffer(ref.sha256, { maxBytes: 999 });
    await expect(tooLarge).rejects.toBeInstanceOf(BlobTooLargeError);
    await expect(tooLarge).rejects.toMatchObject({ size: 1000, maxBytes: 999 });
    expect(await store.getBuffer(ref.sha256, { maxBytes: 1000 })).toHaveLength(1000);
  });

  it.each([
    ['uppercase hex', 'A'.repeat(64)],
    ['too short', 'a'.repeat(63)],
    ['too long', 'a'.repeat(65)],
    ['a path traversal', `../../../../etc/${'a'.repeat(48)}`],
    ['a NUL byte', `${'a'.repeat(63)}\0`],
    ['empty', ''],
  ])('rejects a key that is %s', async (_label, key) => {
    await expect(store.has(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    await expect(store.getStream(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    await expect(store.getBuffer(key)).rejects.toThrow(/expected 64 lowercase hex digits/);
    await expect(store.localPath(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
  });
});

describe('FilesystemBlobStore documents', () => {
  it('round-trips a document and keeps the last write', async () => {
    await store.putDocument('scans/s1/ledger.json', '{"v":1}');
    await store.putDocument('scans/s1/ledger.json', '{"v":2,"name":"naïve"}');

    expect(await store.getDocument('scans/s1/ledger.json')).toBe('{"v":2,"name":"naïve"}');
    expect(await fs.readFile(path.join(root, 'docs', 'scans', 's1', 'ledger.json'), 'utf8')).toBe(
      '{"v":2,"name":"naïve"}',
    );
    expect(await filesUnder(path.join(root, 'tmp'))).toEqual([]);
  });

  it('returns undefined for an absent document', async () => {
    await store.putDocument('scans/s1', 'a file where a directory could be');

    expect(await store.getDocument('scans/s2/ledger.json')).toBeUndefined();
    expect(await store.getDocument('scans/s1/ledger.json')).toBeUndefined();
  });

  it('lists documents under a prefix recursively, sorted', async () => {
    const keys = ['scans/s1/b.json', 'scans/s1/a.json', 'scans/s1/p/2/x.json', 'scans/s2/a.json'];
    for (const key of keys) await store.putDocument(key, '{}');
    await store.putDocument('other.json', '{}');

    expect(await store.listDocuments('scans/s1')).toEqual([
      'scans/s1/a.json',
      'scans/s1/b.json',
      'scans/s1/p/2/x.json',
    ]);
    expect(await store.listDocuments('scans/s1/')).toEqual(await store.listDocuments('scans/s1'));
    expect(await store.listDocuments('')).toEqual([...keys, 'other.json'].sort());
    expect(await store.listDocuments('scans/none')).toEqual([]);
  });

  it('lists nothing before any document is written', async () => {
    expect(await store.listDocuments('')).toEqual([]);
    expect(await store.listDocuments('scans')).toEqual([]);
  });

  it.each([
    ['a parent segment', '../escape.json'],
    ['a nested parent segment', 'scans/../../escape.json'],
    ['an absolute path', '/tmp/escape.json'],
    ['an empty segment', 'scans//x.json'],
    ['a dot segment', 'scans/./x.json'],
    ['a backslash', 'scans\\..\\x.json'],
    ['a NUL byte', 'scans/x\0.json'],
    ['empty', ''],
  ])('rejects a document key with %s', async (_label, key) => {
    await expect(store.putDocument(key, '{}')).rejects.toThrow(/invalid document key/);
    await expect(store.getDocument(key)).rejects.toThrow(/invalid document key/);
    if (key !== '') await expect(store.listDocuments(key)).rejects.toThrow(/invalid document key/);

    expect(await fs.readdir(path.dirname(root))).not.toContain('escape.json');
    expect(await filesUnder(root)).toEqual([]);
  });
});

describe('openBlobStore', () => {
  it('opens a filesystem store from its config', async () => {
    const opened = openBlobStore({ kind: 'filesystem', root });
    const ref = await opened.putBuffer(Buffer.from('via the factory'));

    expect(await store.getBuffer(ref.sha256)).toEqual(Buffer.from('via the factory'));
  });

  it('names the offending key of a bad config', () => {
    const missingRoot = { kind: 'filesystem' } as unknown as BlobStoreConfig;
    const unknownKind = { kind: 'ftp', root } as unknown as BlobStoreConfig;

    expect(() => openBlobStore(missingRoot)).toThrow(/root/);
    expect(() => openBlobStore(unknownKind)).toThrow(/kind/);
  });
});
