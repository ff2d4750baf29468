/**
 * A worker process killed in the middle of a plugin: the activity's heartbeat times out, a
 * second worker runs the plugin again, and the scan completes with each payload once.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoqResponse } from '../../src/model/schemas';
import { cliEnv, requireBuiltCli, runCli, startCli, type CliRun } from '../harness/cli';
import { testAddress, uniqueId } from '../harness/temporal';

const ROOT = join(__dirname, '..', '..');

let home: string;
let work: string;
let pluginDir: string;
let env: NodeJS.ProcessEnv;
const workers: CliRun[] = [];

/** `slowpoke`: logs each call (by process id), hangs on the first, extracts one child on the others. */
function writeSlowPlugin(parent: string, callsFile: string): void {
  const dir = join(parent, 'slowpoke');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stoq-plugin.json'), JSON.stringify({ name: 'slowpoke' }));
  writeFileSync(
    join(dir, 'index.js'),
    `
const { appendFileSync, readFileSync } = require('node:fs');
const { definePlugin, z } = require(${JSON.stringify(join(ROOT, 'dist', 'src', 'plugins', 'api.js'))});
module.exports = definePlugin({
  name: 'slowpoke', version: '1.0.0', description: 'hangs on its first call', kinds: ['worker'],
  options: z.object({}),
  create: () => ({
    worker: {
      async scan(payload) {
        appendFileSync(${JSON.stringify(callsFile)}, process.pid + '\\n');
        const calls = readFileSync(${JSON.stringify(callsFile)}, 'utf8').trim().split('\\n').length;
        if (calls === 1) await new Promise(() => {});
        return { results: { calls }, extracted: [{ content: Buffer.from('crash child') }] };
      },
    },
  }),
});
`,
  );
}

beforeAll(() => {
  requireBuiltCli();
  home = mkdtempSync(join(tmpdir(), 'stoq-crash-home-'));
  work = mkdtempSync(join(tmpdir(), 'stoq-crash-work-'));
  pluginDir = join(work, 'plugins');
  env = cliEnv({ STOQ_HOME: home, TEMPORAL_ADDRESS: testAddress() });
});

afterAll(async () => {
  for (const worker of workers) {
    worker.kill('SIGKILL');
    await worker.done.catch(() => undefined);
  }
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

async function startWorker(taskQueue: string): Promise<CliRun> {
  const worker = startCli(['worker', '--task-queue', taskQueue, '--plugin-dir', pluginDir], {
    env,
    timeoutMs: 300_000,
  });
  workers.push(worker);
  await worker.waitFor('worker running', 'stderr');
  return worker;
}

test('a scan survives its worker being killed mid-plugin, with each payload scanned once', async () => {
  const callsFile = join(work, 'calls');
  writeSlowPlugin(pluginDir, callsFile);
  const taskQueue = uniqueId('stoq-crash');
  const sample = join(work, 'sample.txt');
  writeFileSync(sample, 'crash parent');
  const first = await startWorker(taskQueue);

  const started = await runCli(
    [
      'scan',
      sample,
      '--detach',
      '--task-queue',
      taskQueue,
      '--plugin-dir',
      pluginDir,
      '-s',
      'slowpoke',
      '-a',
      'hash',
      '--plugin-opts',
      'slowpoke:heartbeat_timeout=2',
      'slowpoke:retry_initial_interval=0.2',
    ],
    { env },
  );
  expect(started.code).toBe(0);
  const scanId = started.stdout.trim();

  for (let i = 0; i < 100 && !existsSync(callsFile); i++) await sleep(100);
  expect(existsSync(callsFile)).toBe(true);
  first.kill('SIGKILL');
  await first.done.catch(() => undefined);
  await startWorker(taskQueue);

  const shown = await runCli(['show', scanId, '--wait'], { env });
  expect(shown.code).toBe(0);
  const response = JSON.parse(shown.stdout) as StoqResponse;
  expect(response.errors).toEqual([]);
  expect(response.results).toHaveLength(2);
  expect(response.results[0].workers.slowpoke).toEqual({ calls: 2 });
  expect(response.results[1].extracted_by).toEqual(['slowpoke']);
  expect(Object.keys(response.results[1].workers)).toEqual(['hash']);
  const callers = readFileSync(callsFile, 'utf8').trim().split('\n');
  expect(callers).toHaveLength(2);
  expect(callers[0]).not.toBe(callers[1]);
}, 180_000);
