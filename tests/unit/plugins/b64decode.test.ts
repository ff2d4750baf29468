import b64decodePlugin from '../../../src/plugins/builtin/b64decode';
import { PluginError } from '../../../src/plugins/api';
import { contentToBuffer, payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildZip, pseudoRandomBytes } from '../../fixtures/builders-a';
import { createSetupContext } from './setup-a';

async function decode(text: string) {
  const instance = await b64decodePlugin.create(
    b64decodePlugin.options.parse({}),
    createSetupContext(),
  );
  const result = await instance.worker!.scan(payloadFromBuffer(text), testRequest());
  return contentToBuffer(result!.extracted![0].content);
}

describe('b64decode worker', () => {
  it('decodes MIME-style base64 wrapped at 76 columns into an extracted payload', async () => {
    const zip = await buildZip([{ name: 'a.bin', content: pseudoRandomBytes(3000) }]);
    const wrapped = zip.toString('base64').replace(/.{76}/g, '$&\r\n');

    expect((await decode(`\n  ${wrapped}\n`)).equals(zip)).toBe(true);
  });

  it('decodes unpadded and URL-safe base64', async () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x01]);

    expect(await decode(bytes.toString('base64url'))).toEqual(bytes);
    expect(await decode(bytes.toString('base64').replace(/=+$/, ''))).toEqual(bytes);
  });

  it.each([
    ['text with spaces and punctuation!', 'plain prose'],
    ['', 'an empty payload'],
    ['QUJD\u00ff', 'a non-alphabet byte'],
    ['QUJDR', 'an impossible length'],
    ['ab+/cd-_', 'mixed alphabets'],
  ])('refuses %j (%s) as bad input', async (text) => {
    const error = await decode(text).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).retryable).toBe(false);
  });
});
