import { gzipSync } from 'node:zlib';
import mimetypePlugin from '../../../src/plugins/builtin/mimetype';
import { payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { build7z, buildPng, buildTar, buildZip } from '../../fixtures/builders-a';
import { buildMail, buildOle, buildPe32 } from '../../fixtures/builders-b';
import { createSetupContext } from './setup-a';

async function detect(content: Buffer | string, options: unknown = {}) {
  const instance = await mimetypePlugin.create(
    mimetypePlugin.options.parse(options),
    createSetupContext(),
  );
  const result = await instance.worker!.scan(payloadFromBuffer(content), testRequest());
  return result?.results as { mimetype: string; description: string };
}

describe('mimetype worker', () => {
  it('recognises an RFC 822 mail', async () => {
    const result = await detect(await buildMail({ text: 'see attached' }));

    expect(result.mimetype).toBe('message/rfc822');
  });

  it('recognises HTML and plain text', async () => {
    const html = '<!DOCTYPE html>\n<html><head><title>t</title></head><body>x</body></html>\n';

    expect((await detect(html)).mimetype).toBe('text/html');
    expect((await detect('nothing but words on a line\n')).mimetype).toBe('text/plain');
  });

  it('recognises archives', async () => {
    const zip = await buildZip([{ name: 'a.txt', content: 'hello' }]);
    const tar = await buildTar([{ name: 'a.txt', content: 'hello' }]);
    const sevenZip = await build7z([{ name: 'a.txt', content: 'hello' }]);

    expect(await detect(zip)).toMatchObject({
      mimetype: 'application/zip',
      description: expect.stringContaining('Zip archive'),
    });
    expect((await detect(tar)).mimetype).toBe('application/x-tar');
    expect((await detect(gzipSync('hello'))).mimetype).toBe('application/gzip');
    expect((await detect(sevenZip)).mimetype).toBe('application/x-7z-compressed');
  });

  it('recognises a PE executable', async () => {
    const result = await detect(buildPe32().bytes);

    expect(result.mimetype).toBe('application/vnd.microsoft.portable-executable');
    expect(result.description).toMatch(/^PE32 executable/);
  });

  it('recognises an OLE compound file and a PNG image', async () => {
    const ole = buildOle({ '/WordDocument': Buffer.alloc(600, 1) });

    expect((await detect(ole)).mimetype).toMatch(/^application\/(x-ole-storage|CDFV2|msword)/);
    expect(await detect(buildPng())).toMatchObject({
      mimetype: 'image/png',
      description: expect.stringContaining('1 x 1'),
    });
  });

  it('examines only the configured head of the payload', async () => {
    const textThenZip = Buffer.concat([
      Buffer.from('plain words\n'.repeat(100)),
      await buildZip([{ name: 'a', content: 'b' }]),
    ]);

    expect((await detect(textThenZip, { max_bytes: 64 })).mimetype).toBe('text/plain');
  });

  it('reports an empty payload as empty', async () => {
    expect((await detect(Buffer.alloc(0))).mimetype).toBe('application/x-empty');
  });
});
