/**
 * `stoq status`, `cancel`, `history` and `setup` through the built CLI against the harness's
 * Temporal server. Scans run on a `stoq worker` child process on a task queue of its own, with
 * a fixture plugin that sleeps, extracts and reports errors as told.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import type { ScanListing } from '../../src/client/history';
import type { ScanStatus } from '../../src/client/status';
import { ENCODING_ENCRYPTED, METADATA_KEY_ID } from '../../src/temporal/codec';
import { cliEnv, requireBuiltCli, runCli, startCli, type CliRun } from '../harness/cli';
import { newConnection, testAddress, uniqueId } from '../harness/temporal';

const ROOT = join(__dirname, '..', '..');

let home: string;
let work: string;
let pluginDir: string;
let env: NodeJS.ProcessEnv;
let taskQueue: string;
let worker: CliRun;

/** `fixture`: sleeps, extracts `extract` ("|"-separated texts) and reports `error`. */
function writeFixturePlugin(parent: string): string {
  const dir = join(parent, 'fixture');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'stoq-plugin.json'),
    JSON.stringify({ name: 'fixture', module: 'index.js' }),
  );
  writeFileSync(
    join(dir, 'index.js'),
    `
const { setTimeout: sleep } = require('node:timers/promises');
const { z } = require(${JSON.stringify(require.resolve('zod'))});
const { definePlugin } = require(${JSON.stringify(join(ROOT, 'dist', 'src', 'plugins', 'api.js'))});

module.exports = definePlugin({
  name: 'fixture',
  version: '1.0.0',
  description: 'Sleeps, extracts and fails as told (CLI history test fixture)',
  kinds: ['worker'],
  options: z.object({
    sleep_ms: z.number().int().min(0).default(0),
    extract: z.string().default(''),
    error: z.string().default(''),
  }),
  create: (options) => ({
    worker: {
      async scan(payload) {
        if (options.sleep_ms) await sleep(options.sleep_ms);
        const texts = options.extract ? options.extract.split('|') : [];
        return {
          results: { size: payload.size },
          extracted: texts.map((text) => ({ content: Buffer.from(text) })),
          errors: options.error ? [options.error] : [],
        };
      },
    },
  }),
});
`,
  );
  return dir;
}

beforeAll(async () => {
  requireBuiltCli();
  home = mkdtempSync(join(tmpdir(), 'stoq-history-home-'));
  work = mkdtempSync(join(tmpdir(), 'stoq-history-work-'));
  pluginDir = join(work, 'plugins');
  writeFixturePlugin(pluginDir);
  taskQueue = uniqueId('stoq-history');
  env = cliEnv({ STOQ_HOME: home, TEMPORAL_ADDRESS: testAddress() });

  worker = startCli(['worker', '--task-queue', taskQueue, '--plugin-dir', pluginDir], {
    env,
    timeoutMs: 600_000,
  });
  await worker.waitFor('worker running', 'stderr');
});

afterAll(async () => {
  worker?.kill('SIGTERM');
  await worker?.done;
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const sha256 = (content: string) => createHash('sha256').update(content).digest('hex');

function stoq(...args: string[]) {
  return runCli(args, { env });
}

/** The file comes first: `--plugin-opts` takes every value that follows it. */
function scanArgs(file: string, ...args: string[]): string[] {
  return [
    'scan',
    file,
    '--task-queue',
    taskQueue,
    '--plugin-dir',
    pluginDir,
    '-s',
    'fixture',
    ...args,
  ];
}

function writeFile(name: string, content: string): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

/** Polls a CLI command until its output satisfies `done`; visibility is eventually consistent. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 60; i++) {
    const value = await read();
    if (done(value)) return value;
    await sleep(250);
  }
  return read();
}

async function history(...args: string[]): Promise<ScanListing[]> {
  const result = await stoq('history', '--json', ...args);
  expect(result.stderr).not.toMatch(/stoq: /);
  expect(result.code).toBe(0);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ScanListing);
}

test('status shows a slow scan at work; cancel stops it and show prints the partial response', async () => {
  const file = writeFile('slow.bin', `slow ${randomUUID()}`);
  const started = await stoq(
    ...scanArgs(file, '--detach', '--plugin-opts', 'fixture:sleep_ms=20000'),
  );
  expect(started.code).toBe(0);
  const scanId = started.stdout.trim();

  const status = await eventually(
    async () => {
      const result = await stoq('status', scanId, '--json');
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as ScanStatus;
    },
    (seen) => seen.payloads_pending === 1 && seen.running[0]?.plugins.includes('fixture') === true,
  );
  expect(status).toMatchObject({
    scan_id: scanId,
    status: 'running',
    phase: 'scanning',
    payloads_done: 0,
    payloads_pending: 1,
    running: [{ plugins: ['fixture'] }],
  });
  const human = await stoq('status', scanId);
  expect(human.stdout).toContain('status    running (scanning)');
  expect(human.stdout).toMatch(/payloads {2}0 done, 1 in progress\n {2}[0-9a-f-]{36} {2}fixture/);

  const cancelled = await stoq('cancel', scanId);
  expect(cancelled.stderr).not.toMatch(/stoq: /);
  expect(cancelled.code).toBe(0);
  expect(cancelled.stdout).toContain(`partial response was kept: stoq show ${scanId}`);

  const shown = await stoq('show', scanId);
  expect(shown.code).toBe(0);
  expect(shown.stderr).toContain('this response is partial');
  const partial = JSON.parse(shown.stdout) as { scan_id: string; errors: { error: string }[] };
  expect(partial.scan_id).toBe(scanId);
  expect(partial.errors.map((error) => error.error)).toContain('scan cancelled');

  const afterwards = JSON.parse((await stoq('status', scanId, '--json')).stdout) as ScanStatus;
  expect(afterwards).toMatchObject({ status: 'cancelled', phase: 'cancelled', running: [] });

  const again = await stoq('cancel', scanId);
  expect(again.code).toBe(1);
  expect(again.stderr.trim()).toBe(`stoq: scan ${scanId} is not running: it is cancelled`);
});

test('status and cancel of an unknown scan exit 2 with one line', async () => {
  const unknown = uniqueId('no-such-scan');
  for (const command of ['status', 'cancel']) {
    const result = await stoq(command, unknown);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`stoq: no scan with id ${unknown}`);
  }
});

test('history finds scans by extracted payload hash, file name, source and errors', async () => {
  const run = randomUUID();
  const child = `extracted member ${run}`;
  const sourceA = `feed-a-${run}`;
  const sourceB = `feed-b-${run}`;
  const quoted = `o'brien ${run}.txt`;

  const a = await stoq(
    ...scanArgs(
      writeFile(quoted, `root a ${run}`),
      '--request-source',
      sourceA,
      '--plugin-opts',
      `fixture:extract=${child}`,
      'fixture:error=soft trouble',
    ),
  );
  expect(a.code).toBe(0);
  const scanA = (JSON.parse(a.stdout) as { scan_id: string }).scan_id;
  const b = await stoq(
    ...scanArgs(writeFile(`plain ${run}.txt`, `root b ${run}`), '--request-source', sourceB),
  );
  expect(b.code).toBe(0);
  const scanB = (JSON.parse(b.stdout) as { scan_id: string }).scan_id;

  const ids = (listings: ScanListing[]) => listings.map((listing) => listing.scan_id);
  const byChild = await eventually(
    () => history('--sha256', sha256(child)),
    (found) => found.length >= 1,
  );
  expect(ids(byChild)).toEqual([scanA]);
  expect(byChild[0]).toMatchObject({
    status: 'completed',
    filename: quoted,
    source: sourceA,
    payload_count: 2,
    has_errors: true,
  });
  expect(byChild[0].close_time).not.toBeNull();

  expect(ids(await history('--filename', quoted))).toEqual([scanA]);
  expect(ids(await history('--source', sourceB, '--no-errors'))).toEqual([scanB]);
  expect(ids(await history('--source', sourceB, '--errors'))).toEqual([]);
  expect(
    ids(await history('--source', sourceA, '--errors', '--worker', 'fixture', '--since', '1h')),
  ).toEqual([scanA]);
  expect(ids(await history('--source', sourceA, '--until', '1h'))).toEqual([]);
  expect(ids(await history('--sha256', sha256(`root b ${run}`), '--status', 'completed'))).toEqual([
    scanB,
  ]);

  const human = await stoq('history', '--source', sourceA);
  expect(human.stdout).toMatch(
    new RegExp(`completed +${scanA} {2}2 payloads {2}errors {2}source ${sourceA}`),
  );
});

test('setup registers the search attributes and sets the retention, and a second run changes nothing', async () => {
  const setupHome = mkdtempSync(join(tmpdir(), 'stoq-setup-home-'));
  writeFileSync(join(setupHome, 'stoq.cfg'), '[temporal]\nhistory_retention_days = 3\n');
  const setupEnv = cliEnv({ STOQ_HOME: setupHome, TEMPORAL_ADDRESS: testAddress() });
  try {
    const first = await runCli(['setup'], { env: setupEnv });
    expect(first.stderr).not.toMatch(/stoq: /);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/history retention (set to|already) 3 days/);

    const second = await runCli(['setup'], { env: setupEnv });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('search attributes: all 8 already registered');
    expect(second.stdout).toContain('history retention already 3 days');

    const connection = await newConnection();
    try {
      const described = await connection.workflowService.describeNamespace({
        namespace: 'default',
      });
      expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(3 * 86_400);
    } finally {
      await connection.close();
    }
  } finally {
    rmSync(setupHome, { recursive: true, force: true });
  }
});

test('with an encryption key configured a scan completes and its history holds only ciphertext', async () => {
  const codecHome = mkdtempSync(join(tmpdir(), 'stoq-codec-home-'));
  const key = randomBytes(32).toString('base64');
  writeFileSync(join(codecHome, 'codec.keys'), `test-key=${key}\n`);
  writeFileSync(
    join(codecHome, 'stoq.cfg'),
    '[codec]\nencryption_key_id = test-key\nencryption_keys = codec.keys\n',
  );
  const codecEnv = cliEnv({ STOQ_HOME: codecHome, TEMPORAL_ADDRESS: testAddress() });
  const marker = `secret-filename-${randomUUID()}.txt`;
  try {
    const result = await runCli(
      [
        'scan',
        writeFile(marker, 'encrypted scan'),
        '--local-worker',
        '--task-queue',
        uniqueId('stoq-codec'),
        '--plugin-dir',
        pluginDir,
        '-s',
        'fixture',
      ],
      { env: codecEnv },
    );
    expect(result.stderr).not.toMatch(/stoq: /);
    expect(result.code).toBe(0);
    const scanId = (JSON.parse(result.stdout) as { scan_id: string }).scan_id;

    const connection = await newConnection();
    try {
      const history = await new Client({ connection }).workflow.getHandle(scanId).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const payload = started?.input?.payloads?.[0];
      const text = (bytes?: Uint8Array | null) => Buffer.from(bytes ?? []).toString('utf8');
      expect(text(payload?.metadata?.encoding)).toBe(ENCODING_ENCRYPTED);
      expect(text(payload?.metadata?.[METADATA_KEY_ID])).toBe('test-key');
      expect(text(payload?.data)).not.toContain(marker);
    } finally {
      await connection.close();
    }
  } finally {
    rmSync(codecHome, { recursive: true, force: true });
  }
});
