/**
 * `stoq retry` through the built CLI: a plugin fails while a fault is present, the fault is
 * removed, and the retry's response has its result and no error, linked to the original.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoqResponse } from '../../src/model/schemas';
import { cliEnv, requireBuiltCli, runCli } from '../harness/cli';
import { testAddress, uniqueId } from '../harness/temporal';

const ROOT = join(__dirname, '..', '..');

let home: string;
let work: string;
let pluginDir: string;
let env: NodeJS.ProcessEnv;
let taskQueue: string;

/** `lookup` fails while its `fault_file` exists, like an API that is down. */
function writeLookupPlugin(parent: string): void {
  const dir = join(parent, 'lookup');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stoq-plugin.json'), JSON.stringify({ name: 'lookup' }));
  writeFileSync(
    join(dir, 'index.js'),
    `
const { existsSync } = require('node:fs');
const { definePlugin, z } = require(${JSON.stringify(join(ROOT, 'dist', 'src', 'plugins', 'api.js'))});
module.exports = definePlugin({
  name: 'lookup', version: '1.0.0', description: 'fails while its fault file exists', kinds: ['worker'],
  options: z.object({ fault_file: z.string() }),
  create: (options) => ({
    worker: {
      async scan(payload) {
        if (existsSync(options.fault_file)) throw new Error('lookup service unavailable');
        return { results: { verdict: 'clean', size: payload.size } };
      },
    },
  }),
});
`,
  );
}

beforeAll(() => {
  requireBuiltCli();
  home = mkdtempSync(join(tmpdir(), 'stoq-retry-home-'));
  work = mkdtempSync(join(tmpdir(), 'stoq-retry-work-'));
  pluginDir = join(work, 'plugins');
  writeLookupPlugin(pluginDir);
  taskQueue = uniqueId('stoq-retry');
  env = cliEnv({ STOQ_HOME: home, TEMPORAL_ADDRESS: testAddress() });
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

test('stoq retry re-runs the failed plugin after the fault is gone and prints the corrected response', async () => {
  const fault = join(work, 'lookup-is-down');
  writeFileSync(fault, '');
  const sample = join(work, 'sample.txt');
  writeFileSync(sample, 'retry me through the CLI');
  const common = ['--task-queue', taskQueue, '--plugin-dir', pluginDir, '--local-worker'];
  const options = ['--plugin-opts', `lookup:fault_file=${fault}`, 'lookup:retry_max_attempts=1'];

  const scanned = await runCli(['scan', sample, '-s', 'hash,lookup', ...common, ...options], {
    env,
  });
  expect(scanned.code).toBe(0);
  const original = JSON.parse(scanned.stdout) as StoqResponse;
  expect(original.errors).toEqual([
    expect.objectContaining({ plugin_name: 'lookup', error: 'lookup service unavailable' }),
  ]);

  unlinkSync(fault);
  expect(existsSync(fault)).toBe(false);
  const retried = await runCli(['retry', original.scan_id, ...common, ...options], { env });

  expect(retried.code).toBe(0);
  const corrected = JSON.parse(retried.stdout) as StoqResponse;
  expect(corrected.scan_id).not.toBe(original.scan_id);
  expect(corrected.errors).toEqual([]);
  expect(corrected.request_meta.extra_data).toMatchObject({ retry_of: original.scan_id });
  expect(corrected.results[0].workers.lookup).toEqual({ verdict: 'clean', size: 24 });
  expect(corrected.results[0].workers.hash).toEqual(original.results[0].workers.hash);
});

test('stoq retry of a scan with nothing failed says so and exits 1', async () => {
  const sample = join(work, 'clean.txt');
  writeFileSync(sample, 'nothing fails here');
  const common = ['--task-queue', taskQueue, '--plugin-dir', pluginDir, '--local-worker'];
  const scanned = await runCli(['scan', sample, '-s', 'hash', ...common], { env });
  const { scan_id: scanId } = JSON.parse(scanned.stdout) as StoqResponse;

  const retried = await runCli(['retry', scanId, ...common], { env });

  expect(retried.code).toBe(1);
  expect(retried.stderr).toMatch(/has no failed plugins to retry/);
});

test('stoq retry of an invalid scan id is a usage error', async () => {
  const retried = await runCli(['retry', 'not a scan id!'], { env });
  expect(retried.code).toBe(2);
  expect(retried.stderr).toMatch(/not a scan id/);
});
