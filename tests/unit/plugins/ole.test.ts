import type { PluginInstance } from '../../../src/plugins/api';
import ole, { type OleResults } from '../../../src/plugins/builtin/ole';
import { contentToBuffer, payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildOle } from '../../fixtures/builders-b';

// The cfb library adds this placeholder stream to every file it writes; real files lack it.
const CFB_PLACEHOLDER = '\u0001Sh33tJ5';

async function create(options: Record<string, unknown> = {}): Promise<PluginInstance> {
  return ole.create(ole.options.parse(options), {
    logger: {} as never,
    stoqHome: '/nonexistent',
    blobStore: {} as never,
  });
}

async function extract(content: Buffer, options: Record<string, unknown> = {}) {
  const plugin = await create(options);
  const result = await plugin.worker!.scan(payloadFromBuffer(content), testRequest());
  const extracted = await Promise.all(
    (result!.extracted ?? []).map(async (e) => ({
      bytes: await contentToBuffer(e.content),
      extra: e.payload_meta?.extra_data as { filename: string; stream_path: string },
    })),
  );
  return {
    results: result!.results as OleResults,
    extracted: extracted.filter((e) => e.extra.filename !== CFB_PLACEHOLDER),
    errors: result!.errors,
  };
}

describe('ole worker', () => {
  const streams = {
    '/WordDocument': Buffer.alloc(6000, 0x57),
    '/Macros/VBA/dir': Buffer.from('attribute vb_name = "Module1"'),
    '/Macros/VBA/Module1': Buffer.from('Sub AutoOpen()\r\nEnd Sub'),
    '/Empty': Buffer.alloc(0),
  };

  it('extracts every non-empty stream with its storage path', async () => {
    const { extracted } = await extract(buildOle(streams));

    const byPath = Object.fromEntries(extracted.map((e) => [e.extra.stream_path, e]));
    expect(Object.keys(byPath).sort()).toEqual([
      'Macros/VBA/Module1',
      'Macros/VBA/dir',
      'WordDocument',
    ]);
    for (const [path, content] of Object.entries(streams)) {
      if (content.length === 0) continue;
      expect(byPath[path.slice(1)].bytes.equals(content)).toBe(true);
      expect(byPath[path.slice(1)].extra.filename).toBe(path.split('/').pop());
    }
  });

  it('lists the streams with their sizes in results', async () => {
    const { results } = await extract(buildOle(streams));

    expect(results.streams).toEqual(
      expect.arrayContaining([
        { path: 'WordDocument', size: 6000 },
        { path: 'Macros/VBA/dir', size: streams['/Macros/VBA/dir'].length },
      ]),
    );
    expect(results.skipped).toBe(0);
  });

  it('extracts empty streams when include_empty is set', async () => {
    const { extracted } = await extract(buildOle(streams), { include_empty: true });

    expect(extracted.map((e) => e.extra.stream_path)).toContain('Empty');
  });

  it('stops at max_streams and reports what it skipped', async () => {
    const { results, errors } = await extract(buildOle(streams), { max_streams: 1 });

    expect(results.streams).toHaveLength(1);
    expect(results.skipped).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([expect.stringMatching(/past max_streams \(1\)/)]);
  });

  it('refuses a payload without the OLE signature as bad input', async () => {
    const plugin = await create();

    const scanning = plugin.worker!.scan(payloadFromBuffer('PK\x03\x04 not ole'), testRequest());

    await expect(scanning).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/signature/),
    });
  });

  it('refuses a truncated compound file as bad input', async () => {
    const plugin = await create();
    const cut = buildOle(streams).subarray(0, 1024);

    await expect(plugin.worker!.scan(payloadFromBuffer(cut), testRequest())).rejects.toMatchObject({
      retryable: false,
    });
  });
});
