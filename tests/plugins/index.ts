/**
 * Fixture plugins for the scan workflow tests. Each switches behaviour through its
 * options (results, raising, dispatching, extracting), the way stoQ's own test suite
 * drives its fixture plugins.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { definePlugin, PluginError, type PluginDefinition } from '../../src/plugins/api';

const behaviour = z.object({
  raise: z.string().optional(),
  retryable: z.boolean().default(true),
  /** Fail this many attempts per payload (counted in `counter_dir`), then succeed. */
  fail_times: z.number().int().min(0).default(0),
  counter_dir: z.string().optional(),
  dispatch_to: z.array(z.string()).default([]),
  extract: z.array(z.string()).default([]),
  extract_meta: z.record(z.string(), z.unknown()).default({}),
  sleep_ms: z.number().int().min(0).default(0),
  errors: z.array(z.string()).default([]),
});
type Behaviour = z.infer<typeof behaviour>;

/** Counts calls per plugin and payload in files, across worker processes and retries. */
export function countCall(dir: string | undefined, key: string): number {
  if (!dir) return 1;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, key);
  const count = (existsSync(path) ? Number(readFileSync(path, 'utf8')) : 0) + 1;
  writeFileSync(path, String(count));
  return count;
}

function simpleWorker(name: string): PluginDefinition {
  return definePlugin({
    name,
    version: '1.0.0',
    description: `fixture worker ${name}`,
    kinds: ['worker'],
    options: behaviour,
    create: (options: Behaviour) => ({
      worker: {
        async scan(payload, request) {
          const calls = countCall(options.counter_dir, `${name}-${payload.sha256}`);
          if (options.sleep_ms) await sleep(options.sleep_ms);
          if (calls <= options.fail_times) throw new Error(`${name} transient failure ${calls}`);
          if (options.raise) throw new PluginError(options.raise, { retryable: options.retryable });

          const text = (await payload.bytes()).toString('utf8');
          const others = await request.results();
          return {
            results: {
              worker: name,
              size: payload.size,
              text: text.slice(0, 40),
              saw_workers: Object.keys(payload.results.workers).sort(),
              saw_dispatch_meta: Object.keys(payload.dispatch_meta).sort(),
              saw_payloads: others.length,
              source: request.request_meta.source,
            },
            dispatch_to: options.dispatch_to,
            errors: options.errors,
            extracted: options.extract.map((content) => ({
              content: Buffer.from(content),
              payload_meta: { extra_data: { from: name, ...options.extract_meta } },
            })),
          };
        },
      },
    }),
  });
}

/** Extracts `count` distinct small payloads: a wide archive. */
const extractMany = definePlugin({
  name: 'extract_many',
  version: '1.0.0',
  description: 'fixture: extracts many payloads',
  kinds: ['worker'],
  options: z.object({ count: z.number().int().min(0).default(10) }),
  create: (options: { count: number }) => ({
    worker: {
      async scan(payload) {
        const text = (await payload.bytes()).toString();
        if (text.startsWith('member ')) return { results: { member: true } };
        const extracted = Array.from({ length: options.count }, (_, i) => ({
          content: Buffer.from(`member ${i}`),
          payload_meta: { extra_data: { filename: `m${i}.txt` } },
        }));
        return { results: { extracted: options.count }, extracted };
      },
    },
  }),
});

/** `nest:N` extracts `nest:N-1` until 0: extraction N deep. */
const nest = definePlugin({
  name: 'nest',
  version: '1.0.0',
  description: 'fixture: nested extraction',
  kinds: ['worker'],
  options: z.object({}),
  create: () => ({
    worker: {
      async scan(payload) {
        const match = /^nest:(\d+)$/.exec((await payload.bytes()).toString());
        const level = match ? Number(match[1]) : 0;
        if (level === 0) return { results: { level } };
        return {
          results: { level },
          extracted: [
            { content: Buffer.from(`nest:${level - 1}`), payload_meta: { dispatch_to: ['nest'] } },
          ],
        };
      },
    },
  }),
});

/**
 * Stores its first extraction, then fails on the first attempt while reading the second
 * (a stream that errors midway): the retry must not create duplicate payloads.
 */
const flakyExtract = definePlugin({
  name: 'flaky_extract',
  version: '1.0.0',
  description: 'fixture: fails once after storing extracted content',
  kinds: ['worker'],
  options: z.object({ counter_dir: z.string() }),
  create: (options: { counter_dir: string }) => ({
    worker: {
      async scan(payload) {
        const calls = countCall(options.counter_dir, `flaky-${payload.sha256}`);
        const second = calls === 1 ? failingStream() : Readable.from([Buffer.from('second child')]);
        return {
          results: { attempt: calls },
          extracted: [{ content: Buffer.from('first child') }, { content: second }],
        };
      },
    },
  }),
});

function failingStream(): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.from('second ch'));
      } else {
        this.destroy(new Error('simulated crash while storing extracted content'));
      }
    },
  });
}

const dispatcher = definePlugin({
  name: 'test_dispatcher',
  version: '1.0.0',
  description: 'fixture dispatcher',
  kinds: ['dispatcher'],
  options: z.object({
    workers: z.array(z.string()).default([]),
    /** Dispatch only when the content contains this text (conditional dispatch). */
    match: z.string().optional(),
    raise: z.string().optional(),
  }),
  create: (options: { workers: string[]; match?: string; raise?: string }) => ({
    dispatcher: {
      async dispatch(payload) {
        if (options.raise) throw new Error(options.raise);
        const text = (await payload.bytes()).toString();
        if (options.match && !text.includes(options.match)) return { plugin_names: [] };
        return {
          plugin_names: options.workers,
          meta: { matched: options.match ?? null, xorkey: 42 },
        };
      },
    },
  }),
});

/** Archiver, connector and decorator at once, as stoQ's multi-kind plugins. */
const multi = definePlugin({
  name: 'multi',
  version: '1.0.0',
  description: 'fixture: archiver, connector and decorator',
  kinds: ['archiver', 'connector', 'decorator'],
  options: z.object({
    dir: z.string().optional(),
    raise_in: z.array(z.enum(['archiver', 'connector', 'decorator'])).default([]),
  }),
  create: (options: { dir?: string; raise_in: string[] }) => ({
    archiver: {
      async archive(payload) {
        if (options.raise_in.includes('archiver'))
          throw new PluginError('archiver broke', { retryable: false });
        return { results: { archived_sha256: payload.sha256 } };
      },
    },
    decorator: {
      async decorate(response) {
        if (options.raise_in.includes('decorator'))
          throw new PluginError('decorator broke', { retryable: false });
        return {
          results: { payloads: response.results.length, errors_seen: response.errors.length },
        };
      },
    },
    connector: {
      async save(response) {
        if (options.raise_in.includes('connector'))
          throw new PluginError('connector broke', { retryable: false });
        if (!options.dir) return;
        mkdirSync(options.dir, { recursive: true });
        writeFileSync(join(options.dir, `${response.scan_id}.json`), JSON.stringify(response));
      },
    },
  }),
});

export const testPlugins: PluginDefinition[] = [
  ...['worker_a', 'worker_b', 'worker_c', 'worker_d', 'worker_e'].map(simpleWorker),
  extractMany,
  nest,
  flakyExtract,
  dispatcher,
  multi,
];
