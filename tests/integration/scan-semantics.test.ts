/**
 * stoQ v3 semantics of a scan against the real server: required workers, per-scan
 * de-duplication with merged lineage, max_recursion, archiving rules, decorators,
 * connectors and multi-kind plugins.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testPlugins } from '../plugins';
import { resultFor, ScanEnv } from '../harness/stoq';

let env: ScanEnv;

beforeAll(async () => {
  env = await ScanEnv.start({ plugins: testPlugins });
});

afterAll(async () => {
  await env?.close();
});

describe('required workers', () => {
  test('a worker runs after the worker it requires, which is scheduled by being required', async () => {
    const { response } = await env.scan('needs a', {
      start_dispatch: ['worker_b'],
      plugin_opts: { worker_b: { required_workers: 'worker_a' } },
    });

    expect(response.errors).toEqual([]);
    expect(response.results[0].plugins_run.workers).toEqual(['worker_a', 'worker_b']);
    expect(response.results[0].workers.worker_b).toMatchObject({ saw_workers: ['worker_a'] });
  });

  test('nested requirements run in rounds, deepest first', async () => {
    const { response } = await env.scan('nested', {
      start_dispatch: ['worker_c'],
      plugin_opts: {
        worker_c: { required_workers: 'worker_b' },
        worker_b: { required_workers: 'worker_a' },
      },
    });

    expect(response.results[0].plugins_run.workers).toEqual(['worker_a', 'worker_b', 'worker_c']);
    expect(response.results[0].workers.worker_c).toMatchObject({
      saw_workers: ['worker_a', 'worker_b'],
    });
  });

  test('a circular requirement is an error entry and the scan completes', async () => {
    const { response } = await env.scan('circular', {
      start_dispatch: ['worker_a', 'worker_e'],
      plugin_opts: {
        worker_a: { required_workers: 'worker_b' },
        worker_b: { required_workers: 'worker_a' },
      },
    });

    expect(response.results[0].plugins_run.workers).toEqual(['worker_e']);
    expect(response.errors).toEqual([
      expect.objectContaining({
        plugin_name: 'worker_a',
        error: 'circular required_workers: worker_a -> worker_b -> worker_a',
      }),
    ]);
  });

  test('a chain deeper than max_required_worker_depth is an error entry', async () => {
    const shallow = await ScanEnv.start({
      plugins: testPlugins,
      config: '[core]\nmax_required_worker_depth = 2\n',
    });
    try {
      const { response } = await shallow.scan('deep', {
        start_dispatch: ['worker_d'],
        plugin_opts: {
          worker_d: { required_workers: 'worker_c' },
          worker_c: { required_workers: 'worker_b' },
          worker_b: { required_workers: 'worker_a' },
        },
      });
      expect(response.results[0].plugins_run.workers).toEqual([]);
      expect(response.errors[0].error).toMatch(/deeper than max_required_worker_depth 2/);
    } finally {
      await shallow.close();
    }
  });
});

describe('extracted payloads', () => {
  test('duplicate extracted content is scanned once and its lineage merged', async () => {
    const { response } = await env.scan('dup parent', {
      start_dispatch: ['worker_a', 'worker_b'],
      always_dispatch: ['worker_c'],
      plugin_opts: {
        worker_a: { extract: '["same","same","other"]' },
        worker_b: { extract: '["same"]' },
      },
    });

    expect(response.results).toHaveLength(3);
    const parent = resultFor(response, 'worker_c', 'dup parent');
    const same = resultFor(response, 'worker_c', 'same');
    expect(same?.extracted_by.sort()).toEqual(['worker_a', 'worker_a', 'worker_b']);
    expect(same?.extracted_from).toEqual([
      parent?.payload_id,
      parent?.payload_id,
      parent?.payload_id,
    ]);
    expect(same?.plugins_run.workers).toEqual(['worker_c']);
  });

  test('a payload extracting a copy of the root is not scanned again (an archive quine)', async () => {
    const { response } = await env.scan('quine', {
      start_dispatch: ['worker_a'],
      always_dispatch: ['worker_b'],
      plugin_opts: { worker_a: { extract: '["quine"]' } },
    });

    expect(response.results).toHaveLength(1);
    expect(response.results[0].extracted_by).toEqual(['worker_a']);
    expect(response.results[0].extracted_from).toEqual([response.results[0].payload_id]);
  });

  test('dispatch_to in an extracted payload meta forces workers on it', async () => {
    const { response } = await env.scan('meta parent', {
      start_dispatch: ['worker_a'],
      plugin_opts: { worker_a: { extract: '["forced"]', extract_meta: '{}' } },
    });
    const forced = response.results.find((r) => r.payload_meta.extra_data.from === 'worker_a');
    expect(forced?.plugins_run.workers).toEqual([]);

    const again = await env.scan('meta parent 2', { start_dispatch: ['nest'] });
    expect(again.response.results[0].plugins_run.workers).toEqual(['nest']);
  });

  test('extraction nested 20 deep completes with max_recursion 25', async () => {
    const { response } = await env.scan('nest:20', { start_dispatch: ['nest'], max_recursion: 25 });

    expect(response.errors).toEqual([]);
    expect(response.results).toHaveLength(21);
    expect(response.results.map((r) => (r.workers.nest as { level: number }).level)).toEqual(
      Array.from({ length: 21 }, (_, i) => 20 - i),
    );
  });

  test('with max_recursion 5 extraction stops at depth 5 with an error entry', async () => {
    const { response } = await env.scan('nest:20', { start_dispatch: ['nest'], max_recursion: 5 });

    expect(response.results).toHaveLength(7);
    expect(response.results.slice(0, 6).every((r) => r.plugins_run.workers.includes('nest'))).toBe(
      true,
    );
    const tooDeep = response.results[6];
    expect(tooDeep.plugins_run.workers).toEqual([]);
    expect(response.errors).toEqual([
      {
        error: 'max_recursion 5 reached: payload at extraction depth 6 not scanned',
        plugin_name: null,
        payload_id: tooDeep.payload_id,
      },
    ]);
  });
});

describe('archivers, decorators and connectors', () => {
  test('destination archivers record their results per payload', async () => {
    const { response } = await env.scan('archive me', {
      start_dispatch: ['worker_a'],
      dest_archivers: ['multi'],
      plugin_opts: { worker_a: { extract: '["child"]' } },
    });

    for (const result of response.results) {
      expect(result.plugins_run.archivers).toEqual(['multi']);
      expect(result.archivers.multi).toEqual({
        archived_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    }
  });

  test('should_archive false and archive_payloads false skip archivers', async () => {
    const skipOne = await env.scan(
      'keep out',
      {
        start_dispatch: ['worker_a'],
        dest_archivers: ['multi'],
        plugin_opts: { worker_a: { extract: '["child"]', extract_meta: '{}' } },
      },
      { payloadMeta: { should_archive: false } },
    );
    const [root, child] = skipOne.response.results;
    expect(root.plugins_run.archivers).toEqual([]);
    expect(child.plugins_run.archivers).toEqual(['multi']);

    const skipAll = await env.scan(
      'keep all out',
      { dest_archivers: ['multi'] },
      {
        requestMeta: { archive_payloads: false },
      },
    );
    expect(skipAll.response.results[0].plugins_run.archivers).toEqual([]);
    expect(skipAll.response.request_meta.archive_payloads).toBe(false);
  });

  test('should_scan false payloads are listed and archived, not scanned', async () => {
    const { response } = await env.scan(
      'no scan',
      {
        start_dispatch: ['worker_a'],
        always_dispatch: ['worker_b'],
        dest_archivers: ['multi'],
      },
      { payloadMeta: { should_scan: false } },
    );

    expect(response.results[0].plugins_run).toEqual({ workers: [], archivers: ['multi'] });
    expect(response.results[0].payload_meta.should_scan).toBe(false);
  });

  test('a multi-kind plugin decorates the response and saves it through its connector', async () => {
    const dir = join(env.home, 'connector-out');
    const { response, scanId } = await env.scan('decorate', {
      start_dispatch: ['worker_a'],
      dest_archivers: ['multi'],
      decorators: ['multi'],
      connectors: ['multi'],
      plugin_opts: { multi: { dir }, worker_a: { extract: '["x"]' } },
    });

    expect(response.decorators).toEqual({ multi: { payloads: 2, errors_seen: 0 } });
    const saved = JSON.parse(readFileSync(join(dir, `${scanId}.json`), 'utf8'));
    expect(saved.decorators).toEqual(response.decorators);
    expect(saved.results).toHaveLength(2);
  });
});

test('a worker sees the request: meta and the results of the payloads known so far', async () => {
  const { response } = await env.scan(
    'look around',
    {
      start_dispatch: ['worker_a'],
      always_dispatch: ['worker_b'],
      plugin_opts: { worker_a: { extract: '["kid"]' } },
    },
    { requestMeta: { source: 'seen' } },
  );

  const kid = resultFor(response, 'worker_b', 'kid');
  expect(kid?.workers.worker_b).toMatchObject({ source: 'seen', saw_payloads: 1 });
});
