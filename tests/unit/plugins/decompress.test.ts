import { gzipSync } from 'node:zlib';
import { payloadMetaSchema } from '../../../src/model/schemas';
import decompressPlugin from '../../../src/plugins/builtin/decompress';
import { sanitizeMemberName } from '../../../src/plugins/builtin/decompress/names';
import { PluginError, type WorkerResult } from '../../../src/plugins/api';
import { contentToBuffer, payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import {
  build7z,
  buildTar,
  buildZip,
  buildZipBomb,
  pseudoRandomBytes,
} from '../../fixtures/builders-a';
import { createSetupContext } from './setup-a';

interface Results {
  format: string;
  members: Array<{ filename: string; size: number; password?: string }>;
}

async function extract(content: Buffer, options: unknown = {}, filename?: string) {
  const instance = await decompressPlugin.create(
    decompressPlugin.options.parse(options),
    createSetupContext(),
  );
  const payload = payloadFromBuffer(content, {
    results: filename
      ? { payload_meta: payloadMetaSchema.parse({ extra_data: { filename } }) }
      : {},
  });
  const result = (await instance.worker!.scan(payload, testRequest())) as WorkerResult;
  return { result, results: result.results as Results };
}

async function membersOf(result: WorkerResult): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const item of result.extracted ?? []) {
    const name = item.payload_meta?.extra_data?.filename as string;
    out[name] = (await contentToBuffer(item.content)).toString();
  }
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<PluginError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PluginError);
  return error as PluginError;
}

describe('decompress worker', () => {
  it('extracts every zip member with its name in extra_data', async () => {
    const zip = await buildZip([
      { name: 'readme.txt', content: 'hello' },
      { name: 'docs/notes.md', content: '# notes' },
    ]);

    const { result, results } = await extract(zip);

    expect(results.format).toBe('zip');
    expect(await membersOf(result)).toEqual({ 'readme.txt': 'hello', 'docs/notes.md': '# notes' });
    expect(results.members).toEqual([
      { filename: 'readme.txt', size: 5 },
      { filename: 'docs/notes.md', size: 7 },
    ]);
    expect(result.errors).toBeUndefined();
  });

  it('opens AES and ZipCrypto zips with the first password that works', async () => {
    const members = [{ name: 'sample.exe', content: 'MZ not really' }];
    const aes = await buildZip(members, { password: 'infected' });
    const zipCrypto = await buildZip(members, { password: 'infected', zipCrypto: true });
    const options = { passwords: ['wrong', 'also-wrong', 'infected'] };

    for (const zip of [aes, zipCrypto]) {
      const { result, results } = await extract(zip, options);

      expect(await membersOf(result)).toEqual({ 'sample.exe': 'MZ not really' });
      expect(results.members[0].password).toBe('infected');
    }
  });

  it('records an error for an encrypted member no password opens', async () => {
    const zip = await buildZip([{ name: 'secret.txt', content: 'x' }], { password: 's3cret' });

    const { result } = await extract(zip, { passwords: ['infected'] });

    expect(result.extracted).toEqual([]);
    expect(result.errors).toEqual(['secret.txt: none of the 1 passwords opened it']);
  });

  it('extracts tar files only, with hostile names made relative', async () => {
    const tar = await buildTar([
      { name: '../../etc/cron.d/evil', content: 'owned' },
      { name: '/abs/path.txt', content: 'abs' },
      { name: 'dir', content: '', type: 'directory' },
      { name: 'link', content: '', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'dir/ok.txt', content: 'fine' },
    ]);

    const { result, results } = await extract(tar);

    expect(results.format).toBe('tar');
    expect(await membersOf(result)).toEqual({
      'etc/cron.d/evil': 'owned',
      'abs/path.txt': 'abs',
      'dir/ok.txt': 'fine',
    });
  });

  it('extracts gzip, bzip2 and xz streams as one member named after the archive', async () => {
    const text = 'a,b,c\n1,2,3\n'.repeat(50);
    const bzip2 = await build7z([{ name: 'report.csv', content: text }], { type: 'bzip2' });
    const xz = await build7z([{ name: 'report.csv', content: text }], { type: 'xz' });

    for (const [archive, name] of [
      [gzipSync(text), 'report.csv.gz'],
      [bzip2, 'report.csv.bz2'],
      [xz, 'report.csv.xz'],
    ] as const) {
      const { result } = await extract(archive, {}, name);

      expect(await membersOf(result)).toEqual({ 'report.csv': text });
    }
  });

  it('extracts 7z archives, including encrypted ones with encrypted headers', async () => {
    const members = [
      { name: 'a.txt', content: 'alpha' },
      { name: 'b.bin', content: pseudoRandomBytes(2000).toString('latin1') },
    ];
    const plain = await build7z(members);
    const locked = await build7z(members, { password: 'infected' });

    const open = await extract(plain);
    const unlocked = await extract(locked, { passwords: ['nope', 'infected'] });
    const refused = await extract(locked, { passwords: ['nope'] });

    expect(open.results.format).toBe('7z');
    expect((await membersOf(open.result))['a.txt']).toBe('alpha');
    expect(open.results.members.map((m) => m.size)).toEqual([
      5,
      Buffer.from(members[1].content).length,
    ]);
    expect(unlocked.results.members.map((m) => m.password)).toEqual(['infected', 'infected']);
    expect(refused.result.extracted).toEqual([]);
    expect(refused.result.errors?.[0]).toMatch(/none of the 1 passwords/);
  });

  it('stops a 200 MB zip bomb at the ratio limit with bounded memory', async () => {
    const bomb = await buildZipBomb(200 * 1024 * 1024);
    const before = process.memoryUsage();

    const { result } = await extract(bomb);

    const after = process.memoryUsage();
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(result.extracted).toEqual([]);
    expect(result.errors).toEqual([expect.stringMatching(/^limit max_ratio \(200\) reached/)]);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * 1024 * 1024);
  });

  it('stops a gzip bomb, which declares no size, while it streams', async () => {
    const bomb = gzipSync(Buffer.alloc(40 * 1024 * 1024));

    const ratio = await extract(bomb);
    const total = await extract(bomb, { max_ratio: 1e9, max_total_bytes: 4 * 1024 * 1024 });

    expect(ratio.result.errors).toEqual([expect.stringMatching(/^limit max_ratio/)]);
    expect(total.result.errors).toEqual([
      expect.stringMatching(/^limit max_total_bytes \(4194304\) reached/),
    ]);
    expect(total.result.extracted).toEqual([]);
  });

  it('returns the members extracted before the member-count limit', async () => {
    const zip = await buildZip(
      Array.from({ length: 5 }, (_, i) => ({ name: `m${i}.txt`, content: `member ${i}` })),
    );

    const { result, results } = await extract(zip, { max_members: 3 });

    expect(results.members.map((m) => m.filename)).toEqual(['m0.txt', 'm1.txt', 'm2.txt']);
    expect(result.errors).toEqual(['limit max_members (3) reached, extraction stopped']);
  });

  it('refuses garbage, empty and truncated archives as non-retryable bad input', async () => {
    const zip = await buildZip([
      { name: 'a.txt', content: pseudoRandomBytes(5000).toString('hex') },
    ]);

    const garbage = await rejection(extract(pseudoRandomBytes(4096)));
    const empty = await rejection(extract(Buffer.alloc(0)));
    const truncated = await rejection(extract(zip.subarray(0, zip.length - 40)));

    expect(garbage.retryable).toBe(false);
    expect(garbage.message).toMatch(/^not an archive this worker extracts/);
    expect(empty.retryable).toBe(false);
    expect(truncated.retryable).toBe(false);
    expect(truncated.message).toMatch(/^zip: cannot extract/);
  });

  it('keeps the members before a truncation and reports where it stopped', async () => {
    const tar = await buildTar([
      { name: 'first.txt', content: 'complete' },
      { name: 'second.bin', content: pseudoRandomBytes(10_000) },
    ]);

    const { result } = await extract(tar.subarray(0, 512 + 512 + 512 + 4000));

    expect(await membersOf(result)).toEqual({ 'first.txt': 'complete' });
    expect(result.errors?.[0]).toMatch(/^tar: extraction stopped/);
  });

  it('refuses truncated gzip, bzip2 and xz streams', async () => {
    const content = [{ name: 'r.bin', content: pseudoRandomBytes(20_000) }];
    const archives = {
      gzip: gzipSync(content[0].content),
      bzip2: await build7z(content, { type: 'bzip2' }),
      xz: await build7z(content, { type: 'xz' }),
    };

    for (const [format, archive] of Object.entries(archives)) {
      const error = await rejection(extract(archive.subarray(0, archive.length / 2)));

      expect(error.message).toMatch(new RegExp(`^${format}: cannot extract`));
    }
  });
});

describe('sanitizeMemberName', () => {
  it.each([
    ['../../etc/passwd', 'etc/passwd'],
    ['/absolute/file', 'absolute/file'],
    ['C:\\Windows\\evil.dll', 'Windows/evil.dll'],
    ['a/./b/../c', 'a/b/c'],
    ['nul\0byte', 'nulbyte'],
    ['..', 'unnamed'],
    ['', 'unnamed'],
  ])('turns %j into %j', (name, expected) => {
    expect(sanitizeMemberName(name)).toBe(expected);
  });
});
