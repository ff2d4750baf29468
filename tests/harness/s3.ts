/**
 * A real S3-compatible server for tests: moto's server (PyPI `moto[server]`), one per test
 * file on a free local port, holding its buckets in memory until stopped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** The version .ci/run installs; the message below names it when the module is missing. */
export const MOTO_VERSION = '5.2.1';

const STARTUP_TIMEOUT_MS = 20_000;

export interface S3Server {
  /** `http://127.0.0.1:<port>`: pass as the store's `endpoint`. */
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto's server and resolves once it answers HTTP; throws with an install hint if absent. */
export async function startS3Server(): Promise<S3Server> {
  assertMotoInstalled();

  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });

  try {
    await waitUntilAnswering(endpoint, child, () => stderr);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { endpoint, stop: () => stopChild(child) };
}

function assertMotoInstalled(): void {
  const probe = spawnSync('python3', ['-c', 'import moto.server'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `the S3 tests need moto's server: python3 -m pip install "moto[server]==${MOTO_VERSION}"` +
        ` (import moto.server failed: ${(probe.stderr || String(probe.error)).trim()})`,
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`moto server exited with ${child.exitCode} at startup:\n${stderr()}`);
    }
    const answered = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1000) })
      .then(() => true)
      .catch(() => false);
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto server did not answer at ${endpoint} within ${STARTUP_TIMEOUT_MS} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
