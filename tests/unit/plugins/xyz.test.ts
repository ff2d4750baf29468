import { crc32 } from 'node:zlib';
import xyzPlugin from '../../../src/plugins/builtin/xyz';
import { PluginError } from '../../../src/plugins/api';
import { payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildZip, pseudoRandomBytes } from '../../fixtures/builders-a';
import { createSetupContext } from './setup-a';

async function list(content: Buffer, options: unknown = {}) {
  const instance = await xyzPlugin.create(xyzPlugin.options.parse(options), createSetupContext());
  return (await instance.worker!.scan(payloadFromBuffer(content), testRequest()))?.results as {
    comment: string;
    entries: Array<Record<string, unknown>>;
    truncated: boolean;
  };
}

describe('xyz worker', () => {
  it('lists members with sizes, methods, CRCs and the archive comment', async () => {
    const text = Buffer.from('compressible '.repeat(100));
    const zip = await buildZip(
      [
        { name: 'notes.txt', content: text },
        { name: 'bin/blob', content: pseudoRandomBytes(100) },
      ],
      { comment: 'built by a test' },
    );

    const results = await list(zip);

    expect(results.comment).toBe('built by a test');
    expect(results.truncated).toBe(false);
    expect(results.entries[0]).toMatchObject({
      filename: 'notes.txt',
      directory: false,
      size: text.length,
      method: 'deflate',
      crc32: crc32(text).toString(16).padStart(8, '0'),
      encrypted: false,
    });
    expect(results.entries[0].compressed_size).toBeLessThan(text.length);
    expect(results.entries[1]).toMatchObject({ filename: 'bin/blob', size: 100 });
  });

  it('flags encrypted members without needing the password', async () => {
    const zip = await buildZip([{ name: 'locked.txt', content: 'secret' }], { password: 'pw' });

    expect((await list(zip)).entries[0]).toMatchObject({ filename: 'locked.txt', encrypted: true });
  });

  it('stops listing at max_entries and says so', async () => {
    const zip = await buildZip(
      Array.from({ length: 4 }, (_, i) => ({ name: `f${i}`, content: 'x' })),
    );

    const results = await list(zip, { max_entries: 2 });

    expect(results.entries.map((e) => e.filename)).toEqual(['f0', 'f1']);
    expect(results.truncated).toBe(true);
  });

  it('refuses content that is not a zip as bad input', async () => {
    const error = await list(pseudoRandomBytes(1000)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).retryable).toBe(false);
  });
});
