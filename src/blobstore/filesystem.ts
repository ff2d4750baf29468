/**
 * The blob store on a local (or shared) filesystem: the default under the stoQ home.
 *
 * Layout under the root:
 * - `blobs/ab/cd/<sha256>`: content, written once and never modified (mode 0o444);
 * - `docs/<key>`: named documents such as the scan ledger, replaced as a whole;
 * - `tmp/`: files being written, renamed into place when complete. It lives under the
 *   same root so the rename stays on one filesystem and is atomic: a reader sees either
 *   no file or the whole file, never a partial one.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobRef } from '../model/schemas';
import { hashingStage } from './hashing';
import { shardedBlobKey } from './keys';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  assertSafeDocumentKey,
  type BlobStore,
} from './types';

// Read-only so that a plugin handed `localPath()` cannot alter content other scans share.
// Renaming over it still works: rename(2) needs only write access to the directory.
const BLOB_MODE = 0o444;

export class FilesystemBlobStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly docsDir: string;
  private readonly tmpDir: string;

  constructor(root: string) {
    const absoluteRoot = path.resolve(root);
    this.blobsDir = path.join(absoluteRoot, 'blobs');
    this.docsDir = path.join(absoluteRoot, 'docs');
    this.tmpDir = path.join(absoluteRoot, 'tmp');
  }

  async putBuffer(content: Uint8Array): Promise<BlobRef> {
    const sha256 = createHash('sha256').update(content).digest('hex');
    const ref = { sha256, size: content.byteLength };
    if (await this.holds(ref)) return ref;

    const tmp = await this.newTempPath();
    try {
      await fs.writeFile(tmp, content, { flag: 'wx', mode: BLOB_MODE, flush: true });
      await this.commitBlob(tmp, ref);
    } catch (err) {
      await removeQuietly(tmp);
      throw err;
    }
    return ref;
  }

  async putStream(content: Readable): Promise<BlobRef> {
    const tmp = await this.newTempPath();
    try {
      const ref = await writeHashing(content, tmp);
      await this.commitBlob(tmp, ref);
      return ref;
    } catch (err) {
      await removeQuietly(tmp);
      throw err;
    }
  }

  async has(sha256: string): Promise<boolean> {
    const stats = await statOrUndefined(this.blobPath(sha256));
    return stats?.isFile() === true;
  }

  async getStream(sha256: string): Promise<Readable> {
    // Opening first turns a missing blob into an error here rather than on the stream later.
    const handle = await this.openBlob(sha256);
    return handle.createReadStream();
  }

  async getBuffer(sha256: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const handle = await this.openBlob(sha256);
    try {
      const { size } = await handle.stat();
      const { maxBytes } = options;
      if (maxBytes !== undefined && size > maxBytes) {
        throw new BlobTooLargeError(sha256, size, maxBytes);
      }

      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async localPath(sha256: string): Promise<string> {
    const file = this.blobPath(sha256);
    if (!(await this.has(sha256))) throw new BlobNotFoundError(sha256);
    return file;
  }

  async putDocument(key: string, body: string): Promise<void> {
    const target = this.documentPath(key);

    const tmp = await this.newTempPath();
    try {
      await fs.writeFile(tmp, body, { flag: 'wx', encoding: 'utf8', flush: true });
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(tmp, target);
    } catch (err) {
      await removeQuietly(tmp);
      throw err;
    }
  }

  async getDocument(key: string): Promise<string | undefined> {
    try {
      return await fs.readFile(this.documentPath(key), 'utf8');
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw err;
    }
  }

  async listDocuments(prefix: string): Promise<string[]> {
    // One trailing slash is tolerated ("scans/abc/"); anything else must be a safe key.
    const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    const dir = base === '' ? this.docsDir : this.documentPath(base);

    const keys = await listFiles(dir, base);
    return keys.sort();
  }

  private blobPath(sha256: string): string {
    return path.join(this.blobsDir, ...shardedBlobKey(sha256).split('/'));
  }

  private documentPath(key: string): string {
    assertSafeDocumentKey(key);
    const target = path.join(this.docsDir, ...key.split('/'));

    // Belt and braces: the key check above should make this unreachable.
    if (!target.startsWith(this.docsDir + path.sep)) {
      throw new Error(`invalid document key "${key}": resolves outside the document store`);
    }
    return target;
  }

  private async openBlob(sha256: string): Promise<fs.FileHandle> {
    try {
      return await fs.open(this.blobPath(sha256), 'r');
    } catch (err) {
      if (isAbsent(err)) throw new BlobNotFoundError(sha256);
      throw err;
    }
  }

  /** True when the blob is in place whole; a size mismatch (a damaged copy) counts as absent. */
  private async holds(ref: BlobRef): Promise<boolean> {
    const stats = await statOrUndefined(this.blobPath(ref.sha256));
    return stats !== undefined && stats.isFile() && stats.size === ref.size;
  }

  /**
   * Moves a complete temp file into its content address. Concurrent writers of the same
   * content may both rename; each rename atomically replaces identical bytes, and readers
   * holding the earlier file keep reading it.
   */
  private async commitBlob(tmp: string, ref: BlobRef): Promise<void> {
    if (await this.holds(ref)) {
      await removeQuietly(tmp);
      return;
    }

    const target = this.blobPath(ref.sha256);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(tmp, target);
  }

  // TODO(blobstore): temp files of a process killed mid-write stay in tmp/; sweep ones
  // older than a day at worker start (not now: other processes may be writing there).
  private async newTempPath(): Promise<string> {
    await fs.mkdir(this.tmpDir, { recursive: true });
    return path.join(this.tmpDir, `${randomBytes(16).toString('hex')}.tmp`);
  }
}

/** Streams `source` into a new file, hashing and counting the bytes on their way through. */
async function writeHashing(source: Readable, file: string): Promise<BlobRef> {
  const hashing = hashingStage();

  // Opening before the pipeline means the file exists by the time any error can occur,
  // so the caller's cleanup never races the stream's own lazy open. From here the stream
  // owns the handle: it fsyncs and closes it when finished or destroyed.
  const handle = await fs.open(file, 'wx', BLOB_MODE);
  await pipeline(source, hashing.measure, handle.createWriteStream({ flush: true }));
  return hashing.ref();
}

/** Keys of all regular files under `dir`, each prefixed by `keyPrefix`; [] when `dir` is absent. */
async function listFiles(dir: string, keyPrefix: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isAbsent(err)) return [];
    throw err;
  }

  const keys: string[] = [];
  for (const entry of entries) {
    const key = keyPrefix === '' ? entry.name : `${keyPrefix}/${entry.name}`;
    if (entry.isDirectory()) keys.push(...(await listFiles(path.join(dir, entry.name), key)));
    else if (entry.isFile()) keys.push(key);
  }
  return keys;
}

async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
}

async function removeQuietly(file: string): Promise<void> {
  await fs.rm(file, { force: true }).catch(() => undefined);
}

/** ENOTDIR too: a path whose parent is a file cannot hold anything either. */
function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
