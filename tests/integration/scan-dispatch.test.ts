/**
 * Dispatch semantics of the scan workflow against the real server: start vs always
 * dispatch, dispatchers and their meta, dispatch_to, unknown plugins, plugin failures.
 */
import { stoqResponseSchema } from '../../src/model/schemas';
import { testPlugins } from '../plugins';
import { resultFor, ScanEnv } from '../harness/stoq';

let env: ScanEnv;

beforeAll(async () => {
  env = await ScanEnv.start({ plugins: testPlugins });
});

afterAll(async () => {
  await env?.close();
});

test('start dispatch runs a worker on the root payload and the response keeps stoQ shape', async () => {
  const { response, scanId } = await env.scan(
    'hello root',
    { start_dispatch: ['worker_a'] },
    {
      requestMeta: { source: 'unit-test', extra_data: { ticket: 7 } },
      filename: 'hello.txt',
    },
  );

  expect(stoqResponseSchema.strict().parse(response)).toBeTruthy();
  expect(Object.keys(response).sort()).toEqual([
    'decorators',
    'errors',
    'request_meta',
    'results',
    'scan_id',
    'time',
  ]);
  expect(response.scan_id).toBe(scanId);
  expect(response.request_meta).toEqual({
    archive_payloads: true,
    source: 'unit-test',
    extra_data: { ticket: 7 },
  });
  expect(response.errors).toEqual([]);
  expect(response.results).toHaveLength(1);

  const root = response.results[0];
  expect(Object.keys(root).sort()).toEqual([
    'archivers',
    'extracted_by',
    'extracted_from',
    'payload_id',
    'payload_meta',
    'plugins_run',
    'size',
    'workers',
  ]);
  expect(root.size).toBe(10);
  expect(root.payload_meta.extra_data).toEqual({ filename: 'hello.txt' });
  expect(root.plugins_run).toEqual({ workers: ['worker_a'], archivers: [] });
  expect(root.workers.worker_a).toMatchObject({
    worker: 'worker_a',
    text: 'hello root',
    source: 'unit-test',
  });
});

test('start dispatch applies to the root only while always dispatch applies to every payload', async () => {
  const { response } = await env.scan('parent', {
    start_dispatch: ['worker_b'],
    always_dispatch: ['worker_a'],
    plugin_opts: { worker_b: { extract: '["child"]' } },
  });

  const child = resultFor(response, 'worker_a', 'child');
  const parent = resultFor(response, 'worker_a', 'parent');
  expect(parent?.plugins_run.workers.sort()).toEqual(['worker_a', 'worker_b']);
  expect(child?.plugins_run.workers).toEqual(['worker_a']);
  expect(child?.extracted_by).toEqual(['worker_b']);
  expect(child?.extracted_from).toEqual([parent?.payload_id]);
});

test('dispatchers choose workers for every payload and their meta reaches the workers', async () => {
  const { response } = await env.scan('dispatch me', {
    dispatchers: ['test_dispatcher'],
    plugin_opts: { test_dispatcher: { workers: 'worker_c', match: 'dispatch' } },
  });

  expect(response.results[0].plugins_run.workers).toEqual(['worker_c']);
  expect(response.results[0].workers.worker_c).toMatchObject({
    saw_dispatch_meta: ['test_dispatcher'],
  });
});

test('conditional dispatch skips payloads the dispatcher does not match', async () => {
  const { response } = await env.scan('nothing here', {
    dispatchers: ['test_dispatcher'],
    plugin_opts: { test_dispatcher: { workers: 'worker_c', match: 'dispatch' } },
  });

  expect(response.results[0].plugins_run.workers).toEqual([]);
  expect(response.errors).toEqual([]);
});

test('a worker dispatch_to runs more workers on the same payload, each once', async () => {
  const { response } = await env.scan('chain', {
    start_dispatch: ['worker_a'],
    plugin_opts: {
      worker_a: { dispatch_to: 'worker_b,worker_a' },
      worker_b: { dispatch_to: 'worker_a' },
    },
  });

  expect(response.results[0].plugins_run.workers).toEqual(['worker_a', 'worker_b']);
  expect(response.results[0].workers.worker_b).toMatchObject({ saw_workers: ['worker_a'] });
});

test('an unknown plugin asked for at scan time becomes an error entry, not a crash', async () => {
  const { response } = await env.scan('unknown', {
    start_dispatch: ['worker_a'],
    plugin_opts: { worker_a: { dispatch_to: 'no_such_worker' } },
  });

  expect(response.errors).toEqual([
    {
      error: 'unknown plugin "no_such_worker"',
      plugin_name: 'no_such_worker',
      payload_id: response.results[0].payload_id,
    },
  ]);
});

test('each failing plugin kind becomes an error entry with its name and payload id; the scan completes', async () => {
  const { response } = await env.scan('fail all', {
    start_dispatch: ['worker_a'],
    dispatchers: ['test_dispatcher'],
    dest_archivers: ['multi'],
    decorators: ['multi'],
    connectors: ['multi'],
    plugin_opts: {
      worker_a: { raise: 'worker broke', retryable: 'false' },
      test_dispatcher: { raise: 'dispatcher broke' },
      multi: { raise_in: '["archiver","connector","decorator"]' },
    },
  });

  const payloadId = response.results[0].payload_id;
  const errors = response.errors.map((e) => [e.plugin_name, e.payload_id, e.error]);
  expect(errors).toEqual(
    expect.arrayContaining([
      ['test_dispatcher', payloadId, 'dispatcher broke'],
      ['worker_a', payloadId, 'PluginError: worker broke'],
      ['multi', payloadId, 'PluginError: archiver broke'],
      ['multi', null, 'PluginError: decorator broke'],
      ['multi', null, 'PluginError: connector broke'],
    ]),
  );
  expect(response.results[0].plugins_run.workers).toEqual(['worker_a']);
});

test('a worker that fails transiently is retried by its policy and its result kept', async () => {
  const counterDir = `${env.home}/counters-transient`;
  const { response } = await env.scan('flaky', {
    start_dispatch: ['worker_d'],
    plugin_opts: {
      worker_d: { fail_times: '2', counter_dir: counterDir, retry_initial_interval: '0.1' },
    },
  });

  expect(response.errors).toEqual([]);
  expect(response.results[0].workers.worker_d).toMatchObject({ text: 'flaky' });
});

test('a worker that keeps failing is recorded after its last attempt', async () => {
  const counterDir = `${env.home}/counters-exhausted`;
  const { response } = await env.scan('always flaky', {
    start_dispatch: ['worker_e'],
    plugin_opts: {
      worker_e: {
        fail_times: '99',
        counter_dir: counterDir,
        retry_max_attempts: '2',
        retry_initial_interval: '0.1',
      },
    },
  });

  expect(response.errors).toHaveLength(1);
  expect(response.errors[0]).toMatchObject({
    plugin_name: 'worker_e',
    error: 'worker_e transient failure 2',
  });
});

test('worker errors returned as data are kept alongside results', async () => {
  const { response } = await env.scan('soft errors', {
    start_dispatch: ['worker_a'],
    plugin_opts: { worker_a: { errors: 'first problem,second problem' } },
  });

  expect(response.results[0].workers.worker_a).toBeDefined();
  expect(response.errors.map((e) => e.error)).toEqual(['first problem', 'second problem']);
});
