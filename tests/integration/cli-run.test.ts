/**
 * `stoq run` through the built CLI: the filedir provider over a directory of 50 files, and a
 * stop by SIGTERM that loses none of the scans it started.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stoqResponseSchema } from '../../src/model/schemas';
import { cliEnv, requireBuiltCli, runCli, startCli, writeProbePlugin } from '../harness/cli';
import { testAddress, uniqueId } from '../harness/temporal';

let home: string;
let work: string;
let pluginDir: string;
let source: string;
let env: NodeJS.ProcessEnv;

const FILES = 50;

beforeAll(() => {
  requireBuiltCli();
  home = mkdtempSync(join(tmpdir(), 'stoq-cli-run-home-'));
  work = mkdtempSync(join(tmpdir(), 'stoq-cli-run-'));
  pluginDir = join(work, 'plugins');
  writeProbePlugin(pluginDir);
  source = join(work, 'incoming');
  mkdirSync(source);
  for (let i = 0; i < FILES; i++)
    writeFileSync(join(source, `file-${String(i).padStart(2, '0')}.txt`), `payload number ${i}\n`);
  env = cliEnv({ STOQ_HOME: home, TEMPORAL_ADDRESS: testAddress() });
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

function runArgs(...args: string[]): string[] {
  return [
    'run',
    '-P',
    'filedir',
    '--local-worker',
    '--task-queue',
    uniqueId('stoq-cli-run'),
    '--plugin-dir',
    pluginDir,
    '-a',
    'probe',
    '--request-source',
    'dropbox',
    '--plugin-opts',
    `filedir:source_dir=${source}`,
    ...args,
  ];
}

test('run with the filedir provider scans each of 50 files once and prints one response per line', async () => {
  const result = await runCli(runArgs('--max-queue', '8'), { env });

  expect(result.code).toBe(0);
  const responses = result.stdout
    .trim()
    .split('\n')
    .map((line) => stoqResponseSchema.parse(JSON.parse(line)));
  expect(responses).toHaveLength(FILES);
  const names = responses
    .map((response) => response.results[0].payload_meta.extra_data.filename)
    .sort();
  expect(names).toEqual(
    Array.from({ length: FILES }, (_, i) => `file-${String(i).padStart(2, '0')}.txt`),
  );
  expect(new Set(responses.map((response) => response.scan_id)).size).toBe(FILES);
  for (const response of responses) {
    expect(response.request_meta.source).toBe('dropbox');
    expect(response.results[0].workers.probe).toMatchObject({ size: response.results[0].size });
  }
  expect(result.stderr).toMatch(/submitted 50 {2}completed 50 {2}failed 0/);
});

test('SIGTERM stops intake, and every scan that was started still finishes and is reported', async () => {
  const run = startCli(runArgs('--max-queue', '2', '--provider-consumers', '1'), { env });
  await run.waitFor('"scan_id"');
  run.kill('SIGTERM');
  const result = await run.done;

  expect(result.code).toBe(0);
  const printed = result.stdout.trim().split('\n').length;
  const summary = /submitted (\d+) {2}completed (\d+) {2}failed (\d+)/.exec(result.stderr);
  expect(summary).not.toBeNull();
  const [submitted, completed, failed] = summary!.slice(1).map(Number);
  expect(submitted).toBeLessThan(FILES);
  expect(completed).toBe(submitted);
  expect(failed).toBe(0);
  expect(printed).toBe(completed);
});

test('run without a provider, or with a plugin that is not one, is a usage error', async () => {
  const missing = await runCli(['run'], { env });
  expect(missing.code).toBe(2);
  expect(missing.stderr.trim()).toMatch(
    /^stoq: required option '-P, --providers <names>' not specified$/,
  );

  const wrongKind = await runCli(['run', '-P', 'hash'], { env });
  expect(wrongKind.code).toBe(2);
  expect(wrongKind.stderr.trim()).toMatch(
    /^stoq: -P\/--providers: (plugin "hash" is not a provider|unknown plugin "hash")/,
  );
});
