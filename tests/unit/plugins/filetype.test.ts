import filetypePlugin, {
  DEFAULT_FILETYPE_RULES,
  compileRules,
  workersFor,
} from '../../../src/plugins/builtin/filetype';
import { payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildPng, buildTar, buildZip } from '../../fixtures/builders-a';
import { buildMail, buildOle, buildPe32 } from '../../fixtures/builders-b';
import { createSetupContext } from './setup-a';

async function dispatch(content: Buffer | string, options: unknown = {}) {
  const instance = await filetypePlugin.create(
    filetypePlugin.options.parse(options),
    createSetupContext(),
  );
  return instance.dispatcher!.dispatch(payloadFromBuffer(content), testRequest());
}

describe('filetype dispatcher', () => {
  it('routes archives to decompress and records the detected type in its meta', async () => {
    const result = await dispatch(await buildZip([{ name: 'a.txt', content: 'hi' }]));

    expect(result?.plugin_names).toEqual(['decompress']);
    expect(result?.meta).toMatchObject({ mimetype: 'application/zip' });
    expect(result?.meta?.description).toContain('Zip archive');
  });

  it('routes PE to peinfo, mail to smtp, OLE to ole and images to exif by default', async () => {
    const tar = await buildTar([{ name: 'a', content: 'b' }]);

    expect((await dispatch(tar))?.plugin_names).toEqual(['decompress']);
    expect((await dispatch(buildPe32().bytes))?.plugin_names).toEqual(['peinfo']);
    expect((await dispatch(await buildMail({})))?.plugin_names).toEqual(['smtp']);
    expect((await dispatch(buildOle({ '/Book': Buffer.alloc(600) })))?.plugin_names).toEqual([
      'ole',
    ]);
    expect((await dispatch(buildPng()))?.plugin_names).toEqual(['exif']);
  });

  it('routes text that is base64 through and through to b64decode', async () => {
    const encoded = buildPe32()
      .bytes.toString('base64')
      .replace(/(.{76})/g, '$1\n');
    const result = await dispatch(encoded);

    expect(result?.plugin_names).toEqual(['b64decode']);
    expect(result?.meta).toMatchObject({
      mimetype: 'text/plain',
      types: ['text/plain', 'text/x-base64'],
    });
  });

  it('does not take short words or prose for base64', async () => {
    expect((await dispatch('SGVsbG8='))?.plugin_names).toEqual([]);
    expect(
      (await dispatch('The quick brown fox jumps over the lazy dog again and again and again.'))
        ?.plugin_names,
    ).toEqual([]);
  });

  it('dispatches nothing for a type no rule matches', async () => {
    const result = await dispatch('just words\n');

    expect(result?.plugin_names).toEqual([]);
    expect(result?.meta?.mimetype).toBe('text/plain');
  });

  it('uses configured rules instead of the defaults, globs included', async () => {
    const options = { rules: { 'text/*': ['iocextract', 'yara'], 'text/plain': 'iocextract' } };

    expect((await dispatch('words\n', options))?.plugin_names).toEqual(['iocextract', 'yara']);
    expect((await dispatch(buildPng(), options))?.plugin_names).toEqual([]);
  });

  it('matches globs whole and ignoring case, with regex characters taken literally', () => {
    const rules = compileRules({ 'application/vnd.ms-*': 'ole', 'image/*': ['exif'] });

    expect(workersFor('application/VND.MS-EXCEL', rules)).toEqual(['ole']);
    expect(workersFor('application/vndXms-excel', rules)).toEqual([]);
    expect(workersFor('x-image/png', rules)).toEqual([]);
  });

  it('covers the archive formats decompress reads in its default table', () => {
    const rules = compileRules(DEFAULT_FILETYPE_RULES);
    const archives = ['application/x-bzip2', 'application/x-xz', 'application/x-7z-compressed'];

    for (const type of archives) expect(workersFor(type, rules)).toEqual(['decompress']);
  });

  it('rejects a rule without workers, naming the key', () => {
    const parsed = filetypePlugin.options.safeParse({ rules: { 'image/*': [''] } });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].path.slice(0, 2)).toEqual(['rules', 'image/*']);
  });
});
