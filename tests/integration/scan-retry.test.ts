/**
 * Replaying failed analyses: a retry re-runs only the plugins that failed, against the
 * stored payloads, and produces a corrected response linked to the original.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { submitRetry } from '../../src/client/retry';
import { readResponse } from '../../src/client/submit';
import { parseStoqConfig } from '../../src/config/stoq-config';
import { resolveScanPlan, type PlanOverrides } from '../../src/scan/plan';
import { testPlugins } from '../plugins';
import { resultFor, ScanEnv } from '../harness/stoq';
import { uniqueId } from '../harness/temporal';

let env: ScanEnv;

beforeAll(async () => {
  env = await ScanEnv.start({ plugins: testPlugins });
});

afterAll(async () => {
  await env?.close();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function calls(dir: string, worker: string, content: string): number {
  return Number(readFileSync(join(dir, `${worker}-${sha256(content)}`), 'utf8'));
}

async function retry(originalScanId: string, overrides: PlanOverrides, plugins?: string[]) {
  const plan = resolveScanPlan(parseStoqConfig('', { home: env.home }), env.registry, overrides);
  const submitted = await submitRetry(
    { client: env.client, blobStore: env.blobStore, taskQueue: env.taskQueue },
    { originalScanId, plan, plugins, scanId: uniqueId('retry') },
  );
  await submitted.handle.result();
  return {
    scanId: submitted.scanId,
    response: await readResponse(env.blobStore, submitted.scanId),
  };
}

test('a retry re-runs the plugin that failed until its fault went away, and nothing that succeeded', async () => {
  const counters = join(env.home, 'retry-counters');
  const root = `retry root ${Date.now()}`;
  const overrides: PlanOverrides = {
    start_dispatch: ['worker_a', 'worker_d'],
    always_dispatch: ['worker_b'],
    plugin_opts: {
      worker_a: { extract: JSON.stringify(['retry child']), counter_dir: counters },
      worker_b: { counter_dir: counters },
      // The fault: the first call fails and the policy allows no second attempt.
      worker_d: { fail_times: '1', counter_dir: counters, retry_max_attempts: '1' },
    },
  };
  const original = await env.scan(root, overrides);
  expect(original.response.errors).toEqual([
    expect.objectContaining({ plugin_name: 'worker_d', error: 'worker_d transient failure 1' }),
  ]);

  const { scanId, response } = await retry(original.scanId, overrides);

  expect(response.scan_id).toBe(scanId);
  expect(response.request_meta.extra_data).toMatchObject({ retry_of: original.scanId });
  expect(response.errors).toEqual([]);
  const rootResult = resultFor(response, 'worker_a', root)!;
  expect(rootResult.workers.worker_d).toMatchObject({ text: root });
  expect(rootResult.plugins_run.workers.sort()).toEqual(['worker_a', 'worker_b', 'worker_d']);
  expect(response.results).toHaveLength(2);
  expect(response.results[1].extracted_from).toEqual([rootResult.payload_id]);

  expect(calls(counters, 'worker_a', root)).toBe(1);
  expect(calls(counters, 'worker_b', root)).toBe(1);
  expect(calls(counters, 'worker_b', 'retry child')).toBe(1);
  expect(calls(counters, 'worker_d', root)).toBe(2);
});

test('a retry limited to named plugins leaves the other failures in place', async () => {
  const counters = join(env.home, 'retry-named');
  const overrides: PlanOverrides = {
    start_dispatch: ['worker_d', 'worker_e'],
    plugin_opts: {
      worker_d: { fail_times: '1', counter_dir: counters, retry_max_attempts: '1' },
      worker_e: { raise: 'always broken', retryable: 'false' },
    },
  };
  const original = await env.scan(`named ${Date.now()}`, overrides);
  expect(original.response.errors.map((e) => e.plugin_name).sort()).toEqual([
    'worker_d',
    'worker_e',
  ]);

  const { response } = await retry(original.scanId, overrides, ['worker_d']);

  expect(response.errors.map((e) => e.plugin_name)).toEqual(['worker_e']);
  expect(response.results[0].workers.worker_d).toBeDefined();
});

test('new payloads extracted by a retried worker are scanned; ones the scan had are not duplicated', async () => {
  const counters = join(env.home, 'retry-extract');
  const overrides: PlanOverrides = {
    start_dispatch: ['worker_a', 'worker_c'],
    always_dispatch: ['worker_b'],
    plugin_opts: {
      worker_a: { extract: '["known child"]' },
      worker_b: { counter_dir: counters },
      worker_c: {
        extract: '["known child","new child"]',
        fail_times: '1',
        counter_dir: counters,
        retry_max_attempts: '1',
      },
    },
  };
  const original = await env.scan(`extracting ${Date.now()}`, overrides);
  expect(original.response.results).toHaveLength(2);

  const { response } = await retry(original.scanId, overrides);

  expect(response.errors).toEqual([]);
  expect(response.results).toHaveLength(3);
  const known = resultFor(response, 'worker_b', 'known child')!;
  expect(known.extracted_by.sort()).toEqual(['worker_a', 'worker_c']);
  expect(resultFor(response, 'worker_b', 'new child')).toBeDefined();
  expect(calls(counters, 'worker_b', 'known child')).toBe(1);
});

test('a scan without failed plugins has nothing to retry', async () => {
  const original = await env.scan(`clean ${Date.now()}`, { start_dispatch: ['worker_a'] });

  await expect(retry(original.scanId, {})).rejects.toThrow(WorkflowFailedError);
  await expect(
    retry(original.scanId, {}).catch((error) => {
      throw error.cause;
    }),
  ).rejects.toThrow(/has no failed plugins to retry/);
});
