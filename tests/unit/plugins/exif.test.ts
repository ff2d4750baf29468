import type { PluginInstance } from '../../../src/plugins/api';
import exif, { type ExifResults } from '../../../src/plugins/builtin/exif';
import { payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildJpeg } from '../../fixtures/builders-b';

jest.setTimeout(30_000);

async function create(options: Record<string, unknown> = {}): Promise<PluginInstance> {
  return exif.create(exif.options.parse(options), {
    logger: {} as never,
    stoqHome: '/nonexistent',
    blobStore: {} as never,
  });
}

describe('exif worker', () => {
  let plugin: PluginInstance;

  beforeAll(async () => {
    plugin = await create();
  });

  afterAll(async () => {
    await plugin.close!();
  });

  async function scan(content: Buffer | string, instance = plugin) {
    const result = await instance.worker!.scan(payloadFromBuffer(content), testRequest());
    return { results: result!.results as ExifResults, errors: result!.errors };
  }

  it('reads the EXIF tags of a JPEG, keyed by group', async () => {
    const jpeg = buildJpeg({ Make: 'StoqCam', Model: 'Fixture One', Artist: 'Tester' });

    const { results, errors } = await scan(jpeg);

    expect(errors).toEqual([]);
    expect(results).toMatchObject({
      'File:FileType': 'JPEG',
      'File:MIMEType': 'image/jpeg',
      'File:ImageWidth': 1,
      'EXIF:Make': 'StoqCam',
      'EXIF:Model': 'Fixture One',
      'EXIF:Artist': 'Tester',
    });
  });

  it('leaves out the temporary file and ExifTool bookkeeping', async () => {
    const { results } = await scan(buildJpeg({ Make: 'X' }));

    const keys = Object.keys(results);
    expect(keys).not.toContain('SourceFile');
    expect(keys.filter((k) => /^System:|ExifToolVersion/.test(k))).toEqual([]);
  });

  it('names tags by specific group or by bare name as configured', async () => {
    const jpeg = buildJpeg({ Model: 'Fixture Two' });
    const family1 = await create({ groups: 'family1' });
    const bare = await create({ groups: 'none' });

    try {
      expect((await scan(jpeg, family1)).results['IFD0:Model']).toBe('Fixture Two');
      expect((await scan(jpeg, bare)).results.Model).toBe('Fixture Two');
    } finally {
      await Promise.all([family1.close!(), bare.close!()]);
    }
  });

  it('reports what it can of a file that is not an image', async () => {
    const { results } = await scan('just some text\n');

    expect(results['File:FileType']).toBe('TXT');
  });

  it('rejects an unknown groups value naming the key', () => {
    expect(() => exif.options.parse({ groups: 'all' })).toThrow(/groups/);
  });
});
