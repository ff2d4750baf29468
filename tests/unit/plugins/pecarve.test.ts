import type { PluginInstance } from '../../../src/plugins/api';
import pecarve, { type PecarveResults } from '../../../src/plugins/builtin/pecarve';
import { contentToBuffer, payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildPe32 } from '../../fixtures/builders-b';

async function create(options: Record<string, unknown> = {}): Promise<PluginInstance> {
  return pecarve.create(pecarve.options.parse(options), {
    logger: {} as never,
    stoqHome: '/nonexistent',
    blobStore: {} as never,
  });
}

async function carve(content: Buffer, options: Record<string, unknown> = {}) {
  const plugin = await create(options);
  const result = await plugin.worker!.scan(payloadFromBuffer(content), testRequest());
  const extracted = await Promise.all(
    (result!.extracted ?? []).map(async (e) => ({
      bytes: await contentToBuffer(e.content),
      extra: e.payload_meta?.extra_data,
    })),
  );
  return { results: result!.results as PecarveResults, extracted, errors: result!.errors };
}

describe('pecarve worker', () => {
  const first = buildPe32({ timestamp: 1, overlay: Buffer.from('overlay is not carved') });
  const second = buildPe32({
    timestamp: 2,
    dll: true,
    exports: { dllName: 'b.dll', names: ['B'] },
  });

  it('carves each embedded PE at its offset, without the overlay', async () => {
    const junk = Buffer.from('MZ junk that only looks like a header: MZ\0\0 ');
    const stream = Buffer.concat([junk, first.bytes, Buffer.alloc(100, 0x41), second.bytes]);
    const secondAt = junk.length + first.bytes.length + 100;

    const { results, extracted } = await carve(stream);

    expect(results).toEqual({
      carved: [
        { offset: junk.length, size: first.imageLength, truncated: false },
        { offset: secondAt, size: second.imageLength, truncated: false },
      ],
      limit_reached: false,
    });
    expect(extracted[0].bytes.equals(first.bytes.subarray(0, first.imageLength))).toBe(true);
    expect(extracted[1].bytes.equals(second.bytes)).toBe(true);
    expect(extracted[1].extra).toEqual({
      offset: secondAt,
      size: second.imageLength,
      truncated: false,
    });
  });

  it('skips the payload itself at offset 0 unless skip_self is off', async () => {
    const payload = Buffer.concat([first.bytes, second.bytes]);

    const skipping = await carve(payload);
    const keeping = await carve(payload, { skip_self: false });

    expect(skipping.results.carved.map((c) => c.offset)).toEqual([first.bytes.length]);
    expect(keeping.results.carved.map((c) => c.offset)).toEqual([0, first.bytes.length]);
  });

  it('carves a PE cut short by the end of the payload and flags it', async () => {
    const cut = second.bytes.subarray(0, second.imageLength - 100);

    const { results } = await carve(Buffer.concat([Buffer.from('prefix'), cut]));

    expect(results.carved).toEqual([{ offset: 6, size: cut.length, truncated: true }]);
  });

  it('stops at max_carved and reports the limit', async () => {
    const many = Buffer.concat([Buffer.from('x'), ...Array.from({ length: 4 }, () => first.bytes)]);

    const { results, errors } = await carve(many, { max_carved: 2 });

    expect(results.carved).toHaveLength(2);
    expect(results.limit_reached).toBe(true);
    expect(errors).toEqual([expect.stringMatching(/max_carved \(2\)/)]);
  });

  it('finds nothing in bytes full of MZ with no PE behind them', async () => {
    const noise = Buffer.alloc(64 * 1024);
    for (let i = 0; i < noise.length; i += 2) noise.write('MZ', i, 'latin1');

    const { results, extracted } = await carve(noise);

    expect(results.carved).toEqual([]);
    expect(extracted).toEqual([]);
  });
});
