/**
 * `filedir`: the local filesystem as provider, archiver and connector.
 *
 * - provider: walks `source_dir` once (subdirectories too when `recursive`) and submits each
 *   regular file, with `payload_meta.extra_data = { filename, path }`. Waits for each
 *   submission to be accepted before reading the next file.
 * - archiver: stores payloads under `archive_dir`, sharded by SHA-256
 *   (`ab/cd/ef/abcdef...`), and returns `{ path }`; `get` reads one back from that result.
 * - connector: writes each response to `<results_dir>/<scan_id>.json`, or with `split` one
 *   file per worker result, `<scan_id>-<n>.json` (see `splitResponse`).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { badInput, definePlugin, PluginError, type Payload, type ProviderSink } from '../../api';
import type { StoqResponse } from '../../../model/schemas';
import { splitResponse } from '../../../model/split';

export const filedirOptions = z.object({
  /** Directory the provider walks. Required for the provider kind only. */
  source_dir: z.string().min(1).optional(),
  recursive: z.boolean().default(false),
  /** Archive root; default `<stoq home>/archive`. */
  archive_dir: z.string().min(1).optional(),
  /** Connector output directory; default `<stoq home>/results`. */
  results_dir: z.string().min(1).optional(),
  /** Write one file per worker result instead of one per scan. */
  split: z.boolean().default(false),
  /** JSON indentation of saved responses; 0 writes one line. */
  indent: z.number().int().min(0).max(8).default(0),
});
export type FiledirOptions = z.output<typeof filedirOptions>;

/** What the archiver returns, and what `get` takes back. */
export interface FiledirArchived {
  path: string;
}

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

/** Where a payload with this SHA-256 lives under an archive root. */
export function shardedPath(archiveDir: string, sha256: string): string {
  return join(archiveDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256.slice(4, 6), sha256);
}

async function* walk(dir: string, recursive: boolean, signal: AbortSignal): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (signal.aborted) return;
    const path = join(dir, entry.name);
    if (entry.isFile()) yield path;
    else if (entry.isDirectory() && recursive) yield* walk(path, recursive, signal);
  }
}

async function ingest(options: FiledirOptions, sink: ProviderSink, signal: AbortSignal) {
  if (!options.source_dir) throw new PluginError('filedir provider: option source_dir is required');
  const root = resolve(options.source_dir);

  for await (const path of walk(root, options.recursive, signal)) {
    await sink.put({
      content: createReadStream(path),
      payload_meta: { extra_data: { filename: basename(path), path: relative(root, path) } },
    });
  }
}

async function archive(archiveDir: string, payload: Payload): Promise<FiledirArchived> {
  const path = shardedPath(archiveDir, payload.sha256);
  if (await exists(path)) return { path };

  await mkdir(join(path, '..'), { recursive: true });
  // Write to a temporary name and rename: a reader never sees a half-written payload.
  const partial = `${path}.${process.pid}.${Date.now()}.partial`;
  try {
    await pipeline(payload.stream(), createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, path);
  } finally {
    await rm(partial, { force: true });
  }
  return { path };
}

function get(archiveDir: string, task: Record<string, unknown>) {
  if (typeof task.path !== 'string') throw badInput('filedir get: task has no "path"');
  const path = resolve(task.path);
  // Tasks may come from a queue; never read outside the archive.
  if (!path.startsWith(resolve(archiveDir) + sep)) {
    throw badInput(`filedir get: ${task.path} is outside archive_dir`);
  }
  return createReadStream(path);
}

async function save(resultsDir: string, options: FiledirOptions, response: StoqResponse) {
  if (!SAFE_NAME.test(response.scan_id)) {
    throw badInput(`filedir save: scan_id "${response.scan_id}" is not a safe file name`);
  }
  await mkdir(resultsDir, { recursive: true });

  const documents = options.split
    ? splitResponse(response).map((part, i) => [`${response.scan_id}-${i}.json`, part] as const)
    : [[`${response.scan_id}.json`, response] as const];
  for (const [name, document] of documents) {
    const text = JSON.stringify(document, null, options.indent || undefined);
    await writeFile(join(resultsDir, name), `${text}\n`);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export default definePlugin({
  name: 'filedir',
  version: '1.0.0',
  description: 'Reads payloads from, archives payloads to, and saves results to directories',
  kinds: ['provider', 'archiver', 'connector'],
  options: filedirOptions,
  create: (options, context) => {
    const archiveDir = resolve(options.archive_dir ?? join(context.stoqHome, 'archive'));
    const resultsDir = resolve(options.results_dir ?? join(context.stoqHome, 'results'));
    return {
      provider: { ingest: (sink, signal) => ingest(options, sink, signal) },
      archiver: {
        archive: async (payload) => ({ results: { ...(await archive(archiveDir, payload)) } }),
        get: async (task) => get(archiveDir, task),
      },
      connector: { save: (response) => save(resultsDir, options, response) },
    };
  },
});
