/**
 * Running the built `stoq` CLI as a child process, as a user would, and a fixture plugin
 * directory for its tests.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const CLI_PATH = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** Fails the suite with what to do when the CLI was not built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH) || !existsSync(join(ROOT, 'dist', 'workflow-bundle.js'))) {
    throw new Error(
      `${CLI_PATH} or dist/workflow-bundle.js is missing: run \`npm run build\` before the CLI tests`,
    );
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  /** Settles when the process exits. */
  done: Promise<CliResult>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once stdout or stderr contains `text`. */
  waitFor(text: string | RegExp, stream?: 'stdout' | 'stderr'): Promise<void>;
}

/** The environment of a CLI run: none of the caller's Temporal settings leak in. */
export function cliEnv(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('TEMPORAL_') && !key.startsWith('STOQ_')) env[key] = value;
  }
  if (process.env.TEMPORAL_CLI_PATH) env.TEMPORAL_CLI_PATH = process.env.TEMPORAL_CLI_PATH;
  for (const [key, value] of Object.entries(vars)) if (value !== undefined) env[key] = value;
  return env;
}

export interface CliOptions {
  env: NodeJS.ProcessEnv;
  input?: Buffer | string;
  /** SIGKILL after this long; default 150 s. */
  timeoutMs?: number;
}

export function startCli(args: string[], options: CliOptions): CliRun {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  const watchers: (() => void)[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].on('data', (chunk: Buffer) => {
      output[stream] += chunk.toString('utf8');
      for (const watch of [...watchers]) watch();
    });
  }
  child.stdin.end(options.input ?? '');

  // A hung CLI must not outlive the test run.
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 150_000);
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...output });
    });
  });
  return {
    done,
    kill: (signal) => child.kill(signal),
    waitFor: (text, stream = 'stdout') =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          const found =
            typeof text === 'string' ? output[stream].includes(text) : text.test(output[stream]);
          if (found) resolve();
        };
        watchers.push(check);
        void done.then(() =>
          reject(new Error(`CLI exited before printing ${String(text)}: ${output.stderr}`)),
        );
        check();
      }),
  };
}

export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).done;
}

/**
 * A plugin directory holding `probe`: one plugin of every kind whose outputs echo its options
 * and the request, so a test sees each flag arrive where it should.
 */
export function writeProbePlugin(parent: string, name = 'probe', version = '1.0.0'): string {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'stoq-plugin.json'),
    JSON.stringify({ name, module: 'index.js', options: { label: 'manifest' } }),
  );
  writeFileSync(
    join(dir, 'index.js'),
    `
const { writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const { z } = require(${JSON.stringify(require.resolve('zod'))});
const { definePlugin } = require(${JSON.stringify(join(ROOT, 'dist', 'src', 'plugins', 'api.js'))});

module.exports = definePlugin({
  name: ${JSON.stringify(name)},
  version: ${JSON.stringify(version)},
  description: 'Echoes its options and the request (CLI test fixture)',
  kinds: ['worker', 'dispatcher', 'archiver', 'decorator', 'connector'],
  options: z.object({
    label: z.string().default('none'),
    count: z.number().default(0),
    dispatch: z.array(z.string()).default([]),
    out_dir: z.string().optional(),
  }),
  create: (options) => ({
    worker: {
      async scan(payload, request) {
        return { results: { label: options.label, count: options.count, size: payload.size, request_meta: request.request_meta } };
      },
    },
    dispatcher: { async dispatch() { return { plugin_names: options.dispatch, meta: { label: options.label } }; } },
    archiver: { async archive(payload) { return { results: { label: options.label, sha256: payload.sha256 } }; } },
    decorator: { async decorate(response) { return { results: { label: options.label, payloads: response.results.length } }; } },
    connector: {
      async save(response) {
        mkdirSync(options.out_dir, { recursive: true });
        writeFileSync(join(options.out_dir, response.scan_id + '.json'), JSON.stringify(response));
      },
    },
  }),
});
`,
  );
  return dir;
}
