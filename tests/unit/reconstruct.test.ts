import { stoqResponseSchema, type StoqResponse } from '../../src/model/schemas';
import { reconstructSubResponses, subResponses } from '../../src/model/reconstruct';

/** root -> zip -> (a.exe, b.txt); root -> note.txt; a.exe also found inside note (duplicate). */
function sample(): StoqResponse {
  const result = (payload_id: string, from: string[] = [], by: string[] = []) => ({
    payload_id,
    size: 1,
    extracted_from: from,
    extracted_by: by,
    workers: { hash: { sha256: payload_id } },
  });
  return stoqResponseSchema.parse({
    scan_id: 's1',
    time: '2026-01-01T00:00:00.000Z',
    request_meta: { source: 'test' },
    results: [
      result('root'),
      result('zip', ['root'], ['smtp']),
      result('note', ['root'], ['smtp']),
      result('a.exe', ['zip', 'note'], ['decompress', 'b64decode']),
      result('b.txt', ['zip'], ['decompress']),
    ],
    errors: [
      { error: 'zip broke', plugin_name: 'decompress', payload_id: 'zip' },
      { error: 'scan level', plugin_name: 'conn', payload_id: null },
      { error: 'note broke', plugin_name: 'x', payload_id: 'note' },
    ],
    decorators: { tags: ['old'] },
  });
}

test('each payload becomes the root of a sub-response holding its descendants', () => {
  const parts = subResponses(sample());
  const ids = parts.map((part) => part.results.map((r) => r.payload_id));

  expect(ids).toEqual([
    ['root', 'zip', 'note', 'a.exe', 'b.txt'],
    ['zip', 'a.exe', 'b.txt'],
    ['note', 'a.exe'],
    ['a.exe'],
    ['b.txt'],
  ]);
});

test('sub-responses keep scan id, time and request meta, and only their own errors', () => {
  const zip = subResponses(sample())[1];

  expect(zip.scan_id).toBe('s1');
  expect(zip.request_meta.source).toBe('test');
  expect(zip.errors.map((e) => e.error)).toEqual(['zip broke', 'scan level']);
  expect(zip.decorators).toEqual({});
});

test('sub-responses do not share objects with the original response', () => {
  const original = sample();
  subResponses(original)[0].results[0].workers.hash = 'changed';
  expect(original.results[0].workers.hash).toEqual({ sha256: 'root' });
});

test('decorators run again on every sub-response and their failures become error entries', async () => {
  const parts = await reconstructSubResponses(sample(), {
    count: { decorate: async (response) => ({ results: { payloads: response.results.length } }) },
    broken: {
      decorate: async () => {
        throw new Error('decorator down');
      },
    },
  });

  expect(parts.map((part) => part.decorators.count)).toEqual([
    { payloads: 5 },
    { payloads: 3 },
    { payloads: 2 },
    { payloads: 1 },
    { payloads: 1 },
  ]);
  expect(parts[3].errors).toEqual([
    { error: 'scan level', plugin_name: 'conn', payload_id: null },
    { error: 'decorator down', plugin_name: 'broken', payload_id: null },
  ]);
});
