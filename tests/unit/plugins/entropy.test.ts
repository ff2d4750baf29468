import entropyPlugin, { shannonEntropy } from '../../../src/plugins/builtin/entropy';
import { payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildZip, pseudoRandomBytes } from '../../fixtures/builders-a';
import { createSetupContext } from './setup-a';

async function entropyOf(content: Buffer, options: unknown = {}): Promise<number> {
  const instance = await entropyPlugin.create(
    entropyPlugin.options.parse(options),
    createSetupContext(),
  );
  const result = await instance.worker!.scan(payloadFromBuffer(content), testRequest());
  return (result?.results as { entropy: number }).entropy;
}

describe('entropy worker', () => {
  it('reports zero for a payload of one repeated byte', async () => {
    expect(await entropyOf(Buffer.alloc(4096, 0x41))).toBe(0);
  });

  it('reports exactly 8 bits when every byte value occurs equally often', async () => {
    const everyByte = Buffer.from(Array.from({ length: 256 * 16 }, (_, i) => i % 256));

    expect(await entropyOf(everyByte)).toBeCloseTo(8, 10);
  });

  it('reports 1 bit for two equally frequent byte values', async () => {
    expect(await entropyOf(Buffer.from('abababab'))).toBeCloseTo(1, 10);
  });

  it('ranks compressed content above plain text', async () => {
    const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(200));
    const zipped = await buildZip([{ name: 'r.bin', content: pseudoRandomBytes(50_000) }]);

    expect(await entropyOf(zipped)).toBeGreaterThan(7.9);
    expect(await entropyOf(text)).toBeLessThan(5);
  });

  it('rounds to the configured precision', async () => {
    expect(await entropyOf(Buffer.from('aab'), { precision: 3 })).toBe(0.918);
  });

  it('reports zero for an empty payload', async () => {
    expect(shannonEntropy(new Float64Array(256), 0)).toBe(0);
    expect(await entropyOf(Buffer.alloc(0))).toBe(0);
  });
});
