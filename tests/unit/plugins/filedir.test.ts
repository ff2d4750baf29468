import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import filedirPlugin, { shardedPath } from '../../../src/plugins/builtin/filedir';
import { stoqResponseSchema } from '../../../src/model/schemas';
import { PluginError, type ProviderItem } from '../../../src/plugins/api';
import { contentToBuffer, payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildZip } from '../../fixtures/builders-a';
import { createSetupContext } from './setup-a';

async function instance(options: unknown, stoqHome = '/nonexistent') {
  return filedirPlugin.create(
    filedirPlugin.options.parse(options),
    createSetupContext({ stoqHome }),
  );
}

const response = stoqResponseSchema.parse({
  scan_id: 'scan-1',
  time: '2024-03-01T10:00:00Z',
  results: [
    { payload_id: 'p1', size: 3, workers: { hash: { md5: 'x' }, entropy: { entropy: 1 } } },
    { payload_id: 'p2', size: 4, workers: { hash: { md5: 'y' } } },
  ],
});

describe('filedir provider', () => {
  it('submits each file once, in order, waiting for each put, recursing when asked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'filedir-src-'));
    await writeFile(join(dir, 'b.txt'), 'bee');
    await writeFile(join(dir, 'a.zip'), await buildZip([{ name: 'x', content: 'y' }]));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'c.txt'), 'sea');
    const seen: Array<[unknown, string]> = [];
    let inFlight = 0;
    const sink = {
      async put(item: ProviderItem) {
        expect(++inFlight).toBe(1);
        const content = 'content' in item ? await contentToBuffer(item.content) : Buffer.alloc(0);
        seen.push([item.payload_meta?.extra_data, content.toString('latin1').slice(0, 3)]);
        inFlight--;
      },
    };

    const flat = await instance({ source_dir: dir });
    await flat.provider!.ingest(sink, new AbortController().signal);
    const deep = await instance({ source_dir: dir, recursive: true });
    await deep.provider!.ingest(sink, new AbortController().signal);

    expect(seen).toEqual([
      [{ filename: 'a.zip', path: 'a.zip' }, 'PK\x03'],
      [{ filename: 'b.txt', path: 'b.txt' }, 'bee'],
      [{ filename: 'a.zip', path: 'a.zip' }, 'PK\x03'],
      [{ filename: 'b.txt', path: 'b.txt' }, 'bee'],
      [{ filename: 'c.txt', path: join('sub', 'c.txt') }, 'sea'],
    ]);
  });

  it('requires source_dir to ingest', async () => {
    const plugin = await instance({});

    await expect(
      plugin.provider!.ingest({ put: async () => {} }, new AbortController().signal),
    ).rejects.toThrow(/source_dir is required/);
  });
});

describe('filedir archiver', () => {
  it('stores a payload under a sharded sha256 path and reads it back', async () => {
    const home = await mkdtemp(join(tmpdir(), 'filedir-home-'));
    const content = await buildZip([{ name: 'm', content: 'archived' }]);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const plugin = await instance({}, home);

    const first = await plugin.archiver!.archive!(payloadFromBuffer(content), testRequest());
    const again = await plugin.archiver!.archive!(payloadFromBuffer(content), testRequest());
    const path = (first as { results: { path: string } }).results.path;

    expect(path).toBe(
      join(home, 'archive', sha256.slice(0, 2), sha256.slice(2, 4), sha256.slice(4, 6), sha256),
    );
    expect(path).toBe(shardedPath(join(home, 'archive'), sha256));
    expect(again).toEqual(first);
    expect(await readFile(path)).toEqual(content);
    expect(await contentToBuffer(await plugin.archiver!.get!({ path }))).toEqual(content);
  });

  it('refuses to read a path outside archive_dir', async () => {
    const plugin = await instance({ archive_dir: '/tmp/some-archive' });

    await expect(
      plugin.archiver!.get!({ path: '/tmp/some-archive/../../etc/passwd' }),
    ).rejects.toBeInstanceOf(PluginError);
  });
});

describe('filedir connector', () => {
  it('saves one JSON file per scan, or one per worker result with split', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'filedir-results-'));

    await (await instance({ results_dir: join(dir, 'whole') })).connector!.save(response);
    await (
      await instance({ results_dir: join(dir, 'split'), split: true })
    ).connector!.save(response);

    const whole = JSON.parse(await readFile(join(dir, 'whole', 'scan-1.json'), 'utf8'));
    const parts = (await readdir(join(dir, 'split'))).sort();
    const second = JSON.parse(await readFile(join(dir, 'split', 'scan-1-1.json'), 'utf8'));
    expect(whole).toEqual(response);
    expect(parts).toEqual(['scan-1-0.json', 'scan-1-1.json', 'scan-1-2.json']);
    expect(second.results[0].workers).toEqual({ entropy: { entropy: 1 } });
  });

  it('refuses a scan id that is not a safe file name', async () => {
    const plugin = await instance({ results_dir: await mkdtemp(join(tmpdir(), 'filedir-bad-')) });

    await expect(plugin.connector!.save({ ...response, scan_id: '../../escape' })).rejects.toThrow(
      /not a safe file name/,
    );
  });
});
