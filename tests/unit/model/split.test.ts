import { stoqResponseSchema } from '../../../src/model/schemas';
import { splitResponse } from '../../../src/model/split';

const response = stoqResponseSchema.parse({
  scan_id: 's',
  time: '2024-03-01T10:00:00Z',
  results: [
    {
      payload_id: 'root',
      size: 10,
      workers: { hash: { md5: 'a' }, decompress: { format: 'zip' } },
    },
    { payload_id: 'child', size: 5, extracted_from: ['root'], workers: { hash: { md5: 'b' } } },
    { payload_id: 'unscanned', size: 1, payload_meta: { should_scan: false } },
  ],
  errors: [{ error: 'boom', plugin_name: 'yara', payload_id: 'child' }],
  decorators: { template: { rendered: 'x' } },
});

describe('splitResponse', () => {
  it('returns one response per worker result, each with one payload and one worker', () => {
    const parts = splitResponse(response);

    expect(parts.map((p) => [p.results[0].payload_id, Object.keys(p.results[0].workers)])).toEqual([
      ['root', ['hash']],
      ['root', ['decompress']],
      ['child', ['hash']],
    ]);
    expect(parts[2].results[0].extracted_from).toEqual(['root']);
  });

  it('keeps the scan-level fields in every part', () => {
    for (const part of splitResponse(response)) {
      expect(part).toMatchObject({
        scan_id: 's',
        time: response.time,
        request_meta: response.request_meta,
        errors: response.errors,
        decorators: response.decorators,
      });
    }
  });

  it('leaves the input untouched and shares nothing with it', () => {
    const before = structuredClone(response);

    const parts = splitResponse(response);
    (parts[0].results[0].workers.hash as { md5: string }).md5 = 'changed';
    parts[0].errors.push({ error: 'x', plugin_name: null, payload_id: null });

    expect(response).toEqual(before);
  });
});
