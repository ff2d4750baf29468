/**
 * Finding scans and watching them: search attributes set and queryable, the progress
 * query during a slow scan, and cancellation keeping a partial response.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { readResponse } from '../../src/client/submit';
import { PAYLOAD_PROGRESS_QUERY, SCAN_PROGRESS_QUERY } from '../../src/workflows/queries';
import type { PayloadProgress, ScanProgress } from '../../src/workflows/types';
import { testPlugins } from '../plugins';
import { ScanEnv } from '../harness/stoq';

let env: ScanEnv;

beforeAll(async () => {
  env = await ScanEnv.start({ plugins: testPlugins });
});

afterAll(async () => {
  await env?.close();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function listIds(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of env.client.workflow.list({ query })) ids.push(execution.workflowId);
  return ids.sort();
}

/** Visibility is eventually consistent: poll until the query finds what it should. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 50; i++) {
    const value = await read();
    if (done(value)) return value;
    await sleep(200);
  }
  return read();
}

test('a scan is found by the SHA-256 of its root and of an extracted payload, and by its outcome', async () => {
  const root = `root ${Date.now()}`;
  const child = `child ${Date.now()}`;
  const { scanId } = await env.scan(
    root,
    {
      start_dispatch: ['worker_a'],
      always_dispatch: ['worker_b'],
      plugin_opts: { worker_a: { extract: JSON.stringify([child]), errors: 'soft problem' } },
    },
    { filename: 'invoice.eml', requestMeta: { source: 'mailgw' } },
  );

  const byRoot = await eventually(
    () => listIds(`StoqSha256 = '${sha256(root)}'`),
    (ids) => ids.length >= 2,
  );
  expect(byRoot).toEqual([scanId, `${scanId}/payload/${sha256(root)}`].sort());

  const byChild = await eventually(
    () => listIds(`StoqSha256 = '${sha256(child)}'`),
    (ids) => ids.length >= 1,
  );
  expect(byChild).toEqual([`${scanId}/payload/${sha256(child)}`]);

  const scanQuery =
    `StoqScanId = '${scanId}' AND WorkflowType = 'scanWorkflow' AND StoqFilename = 'invoice.eml' ` +
    `AND StoqSource = 'mailgw' AND StoqHasErrors = true AND StoqPayloadCount = 2 AND StoqWorkers = 'worker_b'`;
  expect(
    await eventually(
      () => listIds(scanQuery),
      (ids) => ids.length === 1,
    ),
  ).toEqual([scanId]);
});

test('the progress queries show a slow scan at work: phase, running plugins, payloads done', async () => {
  const content = `slow ${Date.now()}`;
  const { handle, scanId } = await env.submit(content, {
    start_dispatch: ['worker_c'],
    plugin_opts: { worker_c: { sleep_ms: '4000' } },
  });

  const root = env.client.workflow.getHandle(`${scanId}/payload/${sha256(content)}`);
  const running = await eventually(
    async () => root.query<PayloadProgress>(PAYLOAD_PROGRESS_QUERY).catch(() => undefined),
    (progress) => progress?.running.includes('worker_c') === true,
  );
  expect(running).toMatchObject({ phase: 'scanning', running: ['worker_c'], workers_run: [] });
  expect(await handle.query<ScanProgress>(SCAN_PROGRESS_QUERY)).toEqual({
    scan_id: scanId,
    phase: 'scanning',
  });

  await handle.result();
  expect(await handle.query<ScanProgress>(SCAN_PROGRESS_QUERY)).toEqual({
    scan_id: scanId,
    phase: 'done',
  });
  expect(await root.query<PayloadProgress>(PAYLOAD_PROGRESS_QUERY)).toMatchObject({
    phase: 'done',
    workers_run: ['worker_c'],
    running: [],
  });
});

test('cancelling a scan tells the running plugin, keeps the partial response and ends as cancelled', async () => {
  const content = `cancel me ${Date.now()}`;
  const { handle, scanId } = await env.submit(content, {
    start_dispatch: ['worker_a', 'worker_d'],
    plugin_opts: { worker_d: { sleep_ms: '60000', heartbeat_timeout: '2' } },
  });
  const root = env.client.workflow.getHandle(`${scanId}/payload/${sha256(content)}`);
  await eventually(
    async () => root.query<PayloadProgress>(PAYLOAD_PROGRESS_QUERY).catch(() => undefined),
    (progress) => progress?.workers_run.includes('worker_a') === true,
  );

  const started = Date.now();
  await handle.cancel();
  await expect(handle.result()).rejects.toThrow(/cancel/i);
  expect(Date.now() - started).toBeLessThan(30_000);
  expect((await handle.describe()).status.name).toBe('CANCELLED');

  const response = await readResponse(env.blobStore, scanId);
  expect(response.results).toHaveLength(1);
  expect(response.results[0].workers.worker_a).toBeDefined();
  expect(response.errors.map((e) => e.error)).toEqual(expect.arrayContaining(['scan cancelled']));
});
