/**
 * The invariants that make the scan workflow real, against the real server: no payload
 * bytes in history, exactly one scan per unique payload across retries, bounded history
 * for wide extraction, idempotent submission.
 */
import { randomBytes } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { testPlugins } from '../plugins';
import { ScanEnv } from '../harness/stoq';
import { uniqueId } from '../harness/temporal';

let env: ScanEnv;

beforeAll(async () => {
  env = await ScanEnv.start({ plugins: testPlugins });
});

afterAll(async () => {
  await env?.close();
});

async function historyBytes(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return temporal.api.history.v1.History.encode(history).finish().length;
}

test('a scan of a 10 MB payload leaves no payload bytes in workflow history', async () => {
  const content = randomBytes(10 * 1024 * 1024);
  const { response, scanId, handle } = await env.scan(content, {
    start_dispatch: ['worker_a', 'worker_b'],
  });
  expect(response.results[0].size).toBe(content.length);

  const root = env.client.workflow.getHandle(`${scanId}/payload/${sha256(content)}`);
  const scanHistory = await historyBytes(handle);
  const payloadHistory = await historyBytes(root);
  expect(scanHistory + payloadHistory).toBeLessThan(256 * 1024);
});

test('an activity that stored extracted content and then failed leaves no duplicate payloads after its retry', async () => {
  const { response } = await env.scan('flaky parent', {
    start_dispatch: ['flaky_extract'],
    always_dispatch: ['worker_a'],
    plugin_opts: {
      flaky_extract: { counter_dir: `${env.home}/flaky`, retry_initial_interval: '0.1' },
    },
  });

  expect(response.errors).toEqual([]);
  expect(response.results).toHaveLength(3);
  expect(response.results[0].workers.flaky_extract).toEqual({ attempt: 2 });
  const texts = response.results.map((r) => (r.workers.worker_a as { text: string }).text).sort();
  expect(texts).toEqual(['first child', 'flaky parent', 'second child']);
});

test('starting the same scan id twice yields one scan', async () => {
  const scanId = uniqueId('same-scan');
  const [first, second] = await Promise.all([
    env.submit('submitted twice', { start_dispatch: ['worker_a'] }, { scanId }),
    env.submit('submitted twice', { start_dispatch: ['worker_a'] }, { scanId }),
  ]);
  await first.handle.result();
  const third = await env.submit('submitted twice', { start_dispatch: ['worker_a'] }, { scanId });
  expect(third.existing).toBe(true);

  const runs = [];
  for await (const run of env.client.workflow.list({ query: `WorkflowId = '${scanId}'` }))
    runs.push(run);
  expect(runs).toHaveLength(1);
  expect((await second.handle.describe()).runId).toBe(runs[0].runId);
});

test('an archive of 10,000 members completes with 10,001 results and bounded histories', async () => {
  const { response, scanId, handle } = await env.scan('wide archive', {
    start_dispatch: ['extract_many'],
    plugin_opts: { extract_many: { count: '10000', start_to_close_timeout: '600' } },
  });

  expect(response.errors).toEqual([]);
  expect(response.results).toHaveLength(10_001);
  expect(new Set(response.results.map((r) => r.payload_id)).size).toBe(10_001);
  expect(response.results[1].payload_meta.extra_data).toEqual({ filename: 'm0.txt' });
  expect(response.results[10_000].payload_meta.extra_data).toEqual({ filename: 'm9999.txt' });

  const root = env.client.workflow.getHandle(
    `${scanId}/payload/${sha256(Buffer.from('wide archive'))}`,
  );
  const fanout = env.client.workflow.getHandle(
    `${scanId}/fanout/${response.results[0].payload_id}/extract_many/0`,
  );
  for (const workflow of [handle, root, fanout]) {
    const events = (await workflow.fetchHistory()).events ?? [];
    expect(events.length).toBeLessThan(5_000);
  }
}, 900_000);

function sha256(content: Buffer): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:crypto').createHash('sha256').update(content).digest('hex');
}
