import { createHash } from 'node:crypto';
import { PluginError, type PluginInstance } from '../../../src/plugins/api';
import peinfo, { entropy, type PeinfoResults } from '../../../src/plugins/builtin/peinfo';
import { payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildPe32 } from '../../fixtures/builders-b';

const logger = { child: () => logger } as never;

async function create(options: Record<string, unknown> = {}): Promise<PluginInstance> {
  return peinfo.create(peinfo.options.parse(options), {
    logger,
    stoqHome: '/nonexistent',
    blobStore: {} as never,
  });
}

async function scan(bytes: Buffer, options: Record<string, unknown> = {}) {
  const plugin = await create(options);
  const result = await plugin.worker!.scan(payloadFromBuffer(bytes), testRequest());
  return { results: result!.results as PeinfoResults, errors: result!.errors ?? [] };
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('peinfo worker', () => {
  const timestamp = Date.UTC(2021, 4, 6, 7, 8, 9) / 1000;
  const pe = buildPe32({
    timestamp,
    dll: true,
    subsystem: 3,
    imports: {
      'KERNEL32.dll': ['ExitProcess', 'GetProcAddress'],
      'WS2_32.dll': [3, 23, 115],
      'custom.ocx': [7],
    },
    exports: { dllName: 'fixture.dll', names: ['Run', 'Alpha'] },
    resources: [
      { type: 10, name: 'CONFIG', lang: 1033, data: Buffer.from('hello resource') },
      { type: 24, name: 1, lang: 1033, data: Buffer.from('<assembly/>') },
      { type: 24, name: 1, lang: 1031, data: Buffer.alloc(32, 2) },
    ],
    overlay: Buffer.from('appended overlay'),
  });

  it('reports the headers as the builder wrote them', async () => {
    const { results, errors } = await scan(pe.bytes);

    expect(errors).toEqual([]);
    expect(results).toMatchObject({
      format: 'PE32',
      machine: 'I386',
      timestamp,
      compile_time: '2021-05-06T07:08:09.000Z',
      is_dll: true,
      subsystem: 'WINDOWS_CUI',
      entry_point: pe.entryPoint,
      image_base: 0x400000,
      overlay: { offset: pe.imageLength, size: 'appended overlay'.length },
    });
    expect(results.characteristics).toEqual(['EXECUTABLE_IMAGE', '32BIT_MACHINE', 'DLL']);
  });

  it('lists sections with the entropy and md5 of their raw bytes', async () => {
    const { results } = await scan(pe.bytes);

    expect(results.sections.map((s) => s.name)).toEqual(pe.sections.map((s) => s.name));
    for (const [i, built] of pe.sections.entries()) {
      const raw = pe.bytes.subarray(built.rawOffset, built.rawOffset + built.rawSize);
      expect(results.sections[i]).toMatchObject({
        virtual_address: built.rva,
        raw_offset: built.rawOffset,
        raw_size: built.rawSize,
        md5: createHash('md5').update(raw).digest('hex'),
      });
      expect(results.sections[i].entropy).toBeCloseTo(entropy(raw), 5);
    }
    expect(results.sections[0].characteristics).toContain('CNT_CODE');
  });

  it('lists imports by DLL and computes the imphash with ordinals resolved', async () => {
    const { results } = await scan(pe.bytes);

    expect(results.imports).toEqual({
      'KERNEL32.dll': ['ExitProcess', 'GetProcAddress'],
      'WS2_32.dll': ['ord3', 'ord23', 'ord115'],
      'custom.ocx': ['ord7'],
    });
    // ws2_32 ordinals 3, 23 and 115 are closesocket, socket and WSAStartup; custom.ocx has no
    // table, so its ordinal stays ord7; the .dll/.ocx extensions are dropped.
    const expected = [
      'kernel32.exitprocess',
      'kernel32.getprocaddress',
      'ws2_32.closesocket',
      'ws2_32.socket',
      'ws2_32.wsastartup',
      'custom.ord7',
    ].join(',');
    expect(results.imphash).toBe(md5(expected));
  });

  it('lists exports with ordinals, names and addresses', async () => {
    const { results } = await scan(pe.bytes);

    expect(results.exports).toEqual({
      dll_name: 'fixture.dll',
      functions: [
        { ordinal: 1, name: 'Alpha', rva: pe.entryPoint },
        { ordinal: 2, name: 'Run', rva: pe.entryPoint + 1 },
      ],
    });
  });

  it('walks the resource tree to type, name, language and size', async () => {
    const { results } = await scan(pe.bytes);

    expect(results.resources.map(({ rva: _rva, ...rest }) => rest)).toEqual([
      { type: 'RT_RCDATA', name: 'CONFIG', lang: 1033, size: 14 },
      { type: 'RT_MANIFEST', name: '1', lang: 1033, size: 11 },
      { type: 'RT_MANIFEST', name: '1', lang: 1031, size: 32 },
    ]);
  });

  it('cuts long import lists at max_imports and says so', async () => {
    const many = buildPe32({ imports: { 'a.dll': Array.from({ length: 50 }, (_, i) => `F${i}`) } });

    const { results } = await scan(many.bytes, { max_imports: 10 });

    expect(results.imports['a.dll']).toHaveLength(10);
    expect(results.truncated).toEqual(['imports']);
  });

  it('refuses a payload that is not a PE with a non-retryable error', async () => {
    const plugin = await create();

    const scanning = plugin.worker!.scan(payloadFromBuffer('MZ but nothing else'), testRequest());

    await expect(scanning).rejects.toThrow(/not a readable PE file/);
    await expect(scanning).rejects.toMatchObject({ retryable: false });
    await expect(scanning).rejects.toBeInstanceOf(PluginError);
  });

  it('refuses every truncation of the headers without throwing anything else', async () => {
    const plugin = await create();
    const sectionTableEnd = 0x80 + 24 + 0xe0 + 3 * 40;

    for (let length = 0; length < sectionTableEnd; length += 3) {
      const cut = payloadFromBuffer(pe.bytes.subarray(0, length));
      await expect(plugin.worker!.scan(cut, testRequest())).rejects.toMatchObject({
        retryable: false,
      });
    }
  });

  it('reads a file cut inside its sections and reports the lost directories', async () => {
    const { results, errors } = await scan(pe.bytes.subarray(0, pe.sections[1].rawOffset));

    expect(results.sections).toHaveLength(3);
    expect(errors).toEqual([
      expect.stringMatching(/^imports: truncated/),
      expect.stringMatching(/^exports: truncated/),
      expect.stringMatching(/^resources: truncated/),
    ]);
  });

  it('reports a broken import directory as an error and keeps the rest', async () => {
    const broken = Buffer.from(pe.bytes);
    const importDirectory = 0x80 + 24 + 96 + 8;
    broken.writeUInt32LE(0x7fff0000, importDirectory);

    const { results, errors } = await scan(broken);

    expect(errors).toEqual([expect.stringMatching(/^imports: .*maps to no file data/)]);
    expect(results.imports).toEqual({});
    expect(results.exports?.functions).toHaveLength(2);
  });

  it('refuses absurd section counts', async () => {
    const absurd = Buffer.from(pe.bytes);
    absurd.writeUInt16LE(0xffff, 0x80 + 4 + 2);

    await expect(scan(absurd)).rejects.toThrow(/NumberOfSections 65535/);
  });

  it('ends on a resource tree that points back at itself', async () => {
    const loop = buildPe32({ resources: [{ type: 10, name: 5, lang: 0, data: Buffer.from('x') }] });
    const rsrc = loop.sections[2].rawOffset;
    // Make the type entry's subdirectory the root itself.
    loop.bytes.writeUInt32LE(0x80000000, rsrc + 16 + 4);

    const { results } = await scan(loop.bytes);

    expect(results.resources).toEqual([]);
  });

  it('rejects a negative option naming the key', () => {
    expect(() => peinfo.options.parse({ max_imports: -1 })).toThrow(/max_imports/);
  });
});
