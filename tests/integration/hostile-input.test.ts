/**
 * Hostile input is normal input: through whole scans with the built-in plugins and the
 * out-of-the-box dispatch, bombs, zip-slip names, quines, truncated, empty and garbage
 * files each end in a completed scan with clear error entries, and nothing is written
 * outside the stoQ home.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outOfTheBoxDispatch } from '../../src/app/context';
import { builtinPlugins } from '../../src/plugins/builtin';
import { buildZip, buildZipBomb, pseudoRandomBytes } from '../fixtures/builders-a';
import { ScanEnv } from '../harness/stoq';

let env: ScanEnv;

beforeAll(async () => {
  env = await ScanEnv.start({ builtins: builtinPlugins });
});

afterAll(async () => {
  await env?.close();
});

const scan = (content: Buffer) => env.scan(content, outOfTheBoxDispatch(env.registry));

test('a zip bomb stops at the decompression limits with an error entry', async () => {
  const bomb = await buildZipBomb(200 * 1024 * 1024);
  const { response } = await scan(bomb);

  expect(response.results[0].plugins_run.workers).toContain('decompress');
  const decompressErrors = response.errors.filter((error) => error.plugin_name === 'decompress');
  expect(decompressErrors).toHaveLength(1);
  expect(decompressErrors[0].error).toMatch(/limit|ratio/i);
});

test('zip-slip member names are sanitised and nothing lands outside the stoQ home', async () => {
  const before = new Set(readdirSync(tmpdir()));
  const zip = await buildZip([
    { name: '../../../../tmp/stoq-zip-slip.txt', content: 'escaped?' },
    { name: '/etc/cron.d/stoq', content: 'absolute' },
  ]);
  const { response } = await scan(zip);

  const names = response.results.slice(1).map((r) => r.payload_meta.extra_data.filename as string);
  expect(names).toHaveLength(2);
  for (const name of names) {
    expect(name.startsWith('/')).toBe(false);
    expect(name.split('/')).not.toContain('..');
  }
  const created = readdirSync(tmpdir()).filter((entry) => !before.has(entry));
  expect(created.filter((entry) => entry.includes('zip-slip'))).toEqual([]);
});

test('an archive that contains itself is scanned once', async () => {
  const inner = await buildZip([{ name: 'a.txt', content: 'loop' }]);
  const outer = await buildZip([
    { name: 'copy1.zip', content: inner },
    { name: 'copy2.zip', content: inner },
  ]);
  const { response } = await scan(outer);

  const hashes = response.results.map((r) => (r.workers.hash as { sha256: string }).sha256);
  expect(new Set(hashes).size).toBe(hashes.length);
  const innerResult = response.results.find((r) => r.extracted_by.length === 2);
  expect(innerResult?.extracted_by).toEqual(['decompress', 'decompress']);
});

test('a truncated archive, an empty file and binary garbage complete with clear results', async () => {
  const zip = await buildZip([{ name: 'doc.txt', content: 'x'.repeat(5000) }]);
  const truncated = await scan(zip.subarray(0, Math.floor(zip.length / 2)));
  expect(truncated.response.results.length).toBeGreaterThanOrEqual(1);
  expect(truncated.response.results[0].workers.hash).toBeDefined();
  for (const error of truncated.response.errors) expect(error.plugin_name).toBe('decompress');

  const empty = await scan(Buffer.alloc(0));
  expect(empty.response.results[0]).toMatchObject({ size: 0 });
  expect(empty.response.results[0].workers.hash).toMatchObject({
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });

  const garbage = await scan(pseudoRandomBytes(256 * 1024));
  expect(garbage.response.errors).toEqual([]);
  expect(garbage.response.results).toHaveLength(1);
  expect(garbage.response.results[0].plugins_run.workers.sort()).toEqual(['hash', 'mimetype']);
});

test('the blob store keeps everything under the stoQ home', () => {
  expect(readdirSync(env.home).sort()).toEqual(['blobs']);
  expect(readdirSync(join(env.home, 'blobs')).sort()).toEqual(
    expect.arrayContaining(['blobs', 'docs']),
  );
});
