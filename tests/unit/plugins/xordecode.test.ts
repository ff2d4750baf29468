import xordecodePlugin from '../../../src/plugins/builtin/xordecode';
import { PluginError } from '../../../src/plugins/api';
import { contentToBuffer, payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildPe32 } from '../../fixtures/builders-b';
import { createSetupContext } from './setup-a';

function xor(bytes: Buffer, key: Buffer): Buffer {
  return Buffer.from(bytes.map((b, i) => b ^ key[i % key.length]));
}

async function decode(encoded: Buffer, options: unknown, dispatchMeta = {}) {
  const instance = await xordecodePlugin.create(
    xordecodePlugin.options.parse(options),
    createSetupContext(),
  );
  const payload = payloadFromBuffer(encoded, { dispatch_meta: dispatchMeta });
  const result = await instance.worker!.scan(payload, testRequest());
  return { result, decoded: await contentToBuffer(result!.extracted![0].content) };
}

describe('xordecode worker', () => {
  it('decodes with a multi-byte string key from the options', async () => {
    const pe = buildPe32().bytes;

    const { result, decoded } = await decode(xor(pe, Buffer.from('k3y!')), { key: 'k3y!' });

    expect(decoded.equals(pe)).toBe(true);
    expect(result?.results).toEqual({ key: '6b337921', size: pe.length });
  });

  it('takes the key from any dispatcher meta xorkey when no option is set', async () => {
    const text = Buffer.from('MZ... this program cannot be run in DOS mode');

    const byNumber = await decode(xor(text, Buffer.from([0x5a])), {}, { yara: { xorkey: 0x5a } });
    const byArray = await decode(xor(text, Buffer.from([1, 2])), {}, { other: { xorkey: [1, 2] } });

    expect(byNumber.decoded).toEqual(text);
    expect(byArray.decoded).toEqual(text);
  });

  it('refuses to run without a key, and rejects a bad key option naming it', async () => {
    const error = await decode(Buffer.from('x'), {}).catch((e: unknown) => e);
    const parsed = xordecodePlugin.options.safeParse({ key: 256 });

    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).message).toMatch(/no XOR key/);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].path).toEqual(['key']);
  });
});
