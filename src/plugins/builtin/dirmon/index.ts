/**
 * `dirmon` provider: watches `source_dir` and submits each new file once it is complete.
 *
 * A file counts as complete when its size and modification time stayed the same for
 * `settle_ms` (a writer still copying it keeps changing both). Change events come from
 * `fs.watch`; a poll every `poll_interval_ms` catches what the watcher misses (network
 * filesystems, overflowed event queues, platforms without inotify). Files present at start
 * are skipped unless `process_existing`. Each path is submitted at most once per run.
 * Stops when the abort signal fires. Items carry `extra_data = { filename, path }`.
 */
import { createReadStream, watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { definePlugin, type ProviderSink } from '../../api';

export const dirmonOptions = z.object({
  source_dir: z.string().min(1),
  process_existing: z.boolean().default(false),
  settle_ms: z.number().int().nonnegative().default(1000),
  poll_interval_ms: z.number().int().positive().default(2000),
});
export type DirmonOptions = z.output<typeof dirmonOptions>;

interface Observation {
  size: number;
  mtimeMs: number;
  since: number;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
}

/** Resolves after `ms`, on `wake()`, or when `signal` aborts, whichever comes first. */
class Alarm {
  private ring: (() => void) | undefined;

  wake(): void {
    this.ring?.();
  }

  wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((done) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        this.ring = undefined;
        done();
      };
      const timer = setTimeout(finish, ms);
      signal.addEventListener('abort', finish);
      this.ring = finish;
    });
  }
}

class DirectoryMonitor {
  private readonly root: string;
  private readonly submitted = new Set<string>();
  private readonly pending = new Map<string, Observation>();

  constructor(
    private readonly options: DirmonOptions,
    private readonly sink: ProviderSink,
    private readonly signal: AbortSignal,
  ) {
    this.root = resolve(options.source_dir);
  }

  async run(): Promise<void> {
    if (!this.options.process_existing) {
      for (const name of await listFiles(this.root)) this.submitted.add(name);
    }
    const alarm = new Alarm();
    const watcher = this.watch(alarm);

    try {
      while (!this.signal.aborted) {
        await this.sweep();
        await alarm.wait(this.nextDelay(), this.signal);
      }
    } finally {
      watcher?.close();
    }
  }

  private watch(alarm: Alarm): FSWatcher | undefined {
    try {
      const watcher = watch(this.root, () => alarm.wake());
      // Losing the watcher is not fatal: the poll still finds new files.
      watcher.on('error', () => watcher.close());
      return watcher;
    } catch {
      return undefined;
    }
  }

  private nextDelay(): number {
    const settling = this.pending.size > 0;
    const { poll_interval_ms, settle_ms } = this.options;
    return settling ? Math.max(10, Math.min(poll_interval_ms, settle_ms)) : poll_interval_ms;
  }

  private async sweep(): Promise<void> {
    const names = (await listFiles(this.root)).filter((n) => !this.submitted.has(n));
    for (const name of this.pending.keys()) if (!names.includes(name)) this.pending.delete(name);

    for (const name of names) {
      if (this.signal.aborted) return;
      if (await this.isComplete(name)) await this.submit(name);
    }
  }

  private async isComplete(name: string): Promise<boolean> {
    const info = await stat(join(this.root, name)).catch(() => undefined);
    if (!info) return false;

    const now = Date.now();
    const seen = this.pending.get(name);
    const unchanged = seen && seen.size === info.size && seen.mtimeMs === info.mtimeMs;
    if (!unchanged) {
      this.pending.set(name, { size: info.size, mtimeMs: info.mtimeMs, since: now });
      return this.options.settle_ms === 0;
    }
    return now - seen.since >= this.options.settle_ms;
  }

  private async submit(name: string): Promise<void> {
    this.pending.delete(name);
    this.submitted.add(name);
    await this.sink.put({
      content: createReadStream(join(this.root, name)),
      payload_meta: { extra_data: { filename: name, path: name } },
    });
  }
}

export default definePlugin({
  name: 'dirmon',
  version: '1.0.0',
  description: 'Watches a directory and submits each new file once it is complete',
  kinds: ['provider'],
  options: dirmonOptions,
  create: (options) => ({
    provider: {
      ingest: (sink, signal) => new DirectoryMonitor(options, sink, signal).run(),
    },
  }),
});
