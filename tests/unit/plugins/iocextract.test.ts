import iocextractPlugin from '../../../src/plugins/builtin/iocextract';
import { extractIocs, refang } from '../../../src/plugins/builtin/iocextract/extract';
import { payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { createSetupContext } from './setup-a';

async function scan(content: Buffer | string, options: unknown = {}) {
  const instance = await iocextractPlugin.create(
    iocextractPlugin.options.parse(options),
    createSetupContext(),
  );
  return (await instance.worker!.scan(payloadFromBuffer(content), testRequest()))
    ?.results as Record<string, string[]>;
}

const MD5 = '44d88612fea8a8f36de82e1278abb02f';
const SHA1 = '3395856ce81f2b7382dee72602f798b642f14140';
const SHA256 = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f';

describe('iocextract worker', () => {
  it('finds indicators of every type in a report, grouped and de-duplicated', async () => {
    const report = Buffer.from(
      [
        'Payload at http://evil.example.com/drop/stage2.bin?id=7, again http://evil.example.com/drop/stage2.bin?id=7.',
        `C2 198.51.100.23 and 2001:db8::1 ; hashes ${MD5} ${SHA1} ${SHA256.toUpperCase()}`,
        'Report to soc@corp.example.org',
      ].join('\r\n'),
    );

    const results = await scan(report);

    expect(results.url).toEqual(['http://evil.example.com/drop/stage2.bin?id=7']);
    expect(results.ipv4).toEqual(['198.51.100.23']);
    expect(results.ipv6).toEqual(['2001:db8::1']);
    expect(results.md5).toEqual([MD5]);
    expect(results.sha1).toEqual([SHA1]);
    expect(results.sha256).toEqual([SHA256]);
    expect(results.email).toEqual(expect.arrayContaining(['soc@corp.example.org']));
    expect(results.domain).toEqual(
      expect.arrayContaining(['evil.example.com', 'corp.example.org']),
    );
  });

  it('refangs defanged indicators', async () => {
    const text =
      'hxxps://bad[.]example(.)net/x and 203[.]0[.]113[.]9 and user[at]bad[.]example[.]net and hXXp[:]//a.example.io';

    const results = await scan(text);

    expect(results.url).toEqual(['https://bad.example.net/x', 'http://a.example.io']);
    expect(results.ipv4).toEqual(['203.0.113.9']);
    expect(results.email).toEqual(['user@bad.example.net']);
    expect(refang('evil[dot]com')).toBe('evil.com');
  });

  it('ignores look-alikes: file names, bad IPs, clock times and too-long hex', () => {
    const found = extractIocs(`report.docx 999.1.1.1 12:30:45 ${MD5}ab version 1.2.3`);

    expect(found).toEqual({});
  });

  it('scans only the first max_bytes of a payload', async () => {
    const text = `${'x'.repeat(5000)} http://late.example.com/`;

    expect(await scan(text, { max_bytes: 1000 })).toEqual({});
    expect((await scan(text)).url).toEqual(['http://late.example.com/']);
  });

  it('looks only for the configured types', async () => {
    expect(await scan(`1.2.3.4 ${MD5}`, { types: ['md5'] })).toEqual({ md5: [MD5] });
  });
});
