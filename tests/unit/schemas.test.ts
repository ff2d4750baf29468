import {
  payloadMetaSchema,
  payloadResultsSchema,
  requestMetaSchema,
  stoqErrorSchema,
  stoqResponseSchema,
  dispatcherResponseSchema,
  archiverResponseSchema,
  decoratorResponseSchema,
  workerResponseSchema,
} from '../../src/model/schemas';

test('defaults fill a partial payload result into stoQ v3 shape', () => {
  const result = payloadResultsSchema.parse({ payload_id: 'p1', size: 3 });

  expect(result).toEqual({
    payload_id: 'p1',
    size: 3,
    payload_meta: { should_archive: true, should_scan: true, extra_data: {}, dispatch_to: [] },
    extracted_from: [],
    extracted_by: [],
    workers: {},
    plugins_run: { workers: [], archivers: [] },
    archivers: {},
  });
});

test('a stoQ v3 response round-trips through JSON unchanged', () => {
  const stoq = {
    time: '2026-12-03T10:00:00.000000',
    results: [
      {
        payload_id: 'a',
        size: 10,
        payload_meta: {
          should_archive: false,
          should_scan: true,
          extra_data: { filename: 'x.zip' },
          dispatch_to: ['hash'],
        },
        extracted_from: [],
        extracted_by: [],
        workers: { hash: { sha256: 'ab' } },
        plugins_run: { workers: ['hash'], archivers: ['filedir'] },
        archivers: { filedir: { path: '/a' } },
      },
    ],
    request_meta: { archive_payloads: true, source: 'cli', extra_data: { k: 'v' } },
    errors: [{ error: 'boom', plugin_name: 'yara', payload_id: 'a' }],
    decorators: { tagger: { tags: [] } },
    scan_id: 'scan-1',
  };

  const parsed = stoqResponseSchema.parse(JSON.parse(JSON.stringify(stoq)));
  expect(JSON.parse(JSON.stringify(parsed))).toEqual(stoq);
});

test('request meta, errors and plugin responses take stoQ defaults', () => {
  expect(requestMetaSchema.parse({})).toEqual({
    archive_payloads: true,
    source: null,
    extra_data: {},
  });
  expect(stoqErrorSchema.parse({ error: 'e' })).toEqual({
    error: 'e',
    plugin_name: null,
    payload_id: null,
  });
  expect(payloadMetaSchema.parse({ should_scan: false }).should_archive).toBe(true);
  expect(dispatcherResponseSchema.parse({})).toEqual({ plugin_names: [], meta: {}, errors: [] });
  expect(archiverResponseSchema.parse({})).toEqual({ results: null, errors: [] });
  expect(decoratorResponseSchema.parse({ results: 1 })).toEqual({ results: 1, errors: [] });
  expect(workerResponseSchema.parse({})).toEqual({ extracted: [], errors: [], dispatch_to: [] });
});

test('malformed responses are rejected with the path of the bad field', () => {
  const parsed = stoqResponseSchema.safeParse({
    scan_id: 's',
    time: 't',
    results: [{ payload_id: 1, size: -1 }],
  });
  expect(parsed.success).toBe(false);
  const paths = parsed.error!.issues.map((issue) => issue.path.join('.'));
  expect(paths).toEqual(expect.arrayContaining(['results.0.payload_id', 'results.0.size']));
});
