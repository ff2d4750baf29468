/** What `stoq scan` reads: a file, or stdin when no file (or `-`) is given. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { UsageError } from './errors';

export interface ScanInput {
  content: Readable;
  /** The file's base name; absent for stdin. */
  filename?: string;
}

export async function openScanInput(
  file: string | undefined,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<ScanInput> {
  if (file === undefined || file === '-') return { content: await nonEmptyStdin(stdin) };

  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new UsageError(`file not found: ${file}`);
    throw new UsageError(`cannot read ${file}: ${error.code ?? error.message}`);
  });
  if (!info.isFile()) throw new UsageError(`not a regular file: ${file}`);
  if (info.size === 0) throw new UsageError(`empty input: ${file} is 0 bytes`);

  return { content: createReadStream(file), filename: basename(file) };
}

/**
 * Reads stdin's first chunk to tell empty input from content, then hands back a stream of
 * everything, so a large pipe is never held in memory whole.
 */
async function nonEmptyStdin(stdin: NodeJS.ReadStream): Promise<Readable> {
  if (stdin.isTTY) throw new UsageError('no input: give a FILE, or pipe content to stdin');

  const iterator = stdin[Symbol.asyncIterator]();
  let first = await iterator.next();
  while (!first.done && (first.value as Buffer).length === 0) first = await iterator.next();
  if (first.done) throw new UsageError('empty input: stdin had no content');

  const head = first.value as Buffer;
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      yield next.value as Buffer;
  }
  return Readable.from(rest(), { objectMode: false });
}
