import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import hashPlugin from '../../../src/plugins/builtin/hash';
import { payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { createSetupContext } from './setup-a';
import { pseudoRandomBytes } from '../../fixtures/builders-a';

async function scan(content: Buffer, options: unknown = {}) {
  const instance = await hashPlugin.create(hashPlugin.options.parse(options), createSetupContext());
  return instance.worker!.scan(payloadFromBuffer(content), testRequest());
}

describe('hash worker', () => {
  it('reports md5, sha1, sha256 and sha512 of the payload', async () => {
    const content = pseudoRandomBytes(100_000);

    const result = await scan(content);

    expect(result?.results).toEqual({
      md5: createHash('md5').update(content).digest('hex'),
      sha1: createHash('sha1').update(content).digest('hex'),
      sha256: createHash('sha256').update(content).digest('hex'),
      sha512: createHash('sha512').update(content).digest('hex'),
    });
  });

  it('hashes a payload streamed in many chunks the same as whole', async () => {
    const content = pseudoRandomBytes(300_000, 7);
    const payload = {
      ...payloadFromBuffer(content),
      stream: () =>
        Readable.from(
          Array.from({ length: 300 }, (_, i) => content.subarray(i * 1000, (i + 1) * 1000)),
        ),
      bytes: async () => {
        throw new Error('hash must not read the payload whole');
      },
    };
    const instance = await hashPlugin.create(hashPlugin.options.parse({}), createSetupContext());

    const result = await instance.worker!.scan(payload, testRequest());

    expect((result?.results as { sha256: string }).sha256).toBe(
      createHash('sha256').update(content).digest('hex'),
    );
  });

  it('computes only the configured algorithms', async () => {
    const result = await scan(Buffer.from('abc'), { algorithms: ['sha1'] });

    expect(result?.results).toEqual({ sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d' });
  });

  it('hashes an empty payload', async () => {
    const result = await scan(Buffer.alloc(0));

    expect((result?.results as { md5: string }).md5).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  it('rejects an unknown algorithm naming the option', () => {
    const parsed = hashPlugin.options.safeParse({ algorithms: ['crc32'] });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].path).toEqual(['algorithms', 0]);
  });
});
