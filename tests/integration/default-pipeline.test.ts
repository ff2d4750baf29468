/**
 * The built-in plugins end to end on the real server, with the out-of-the-box dispatch
 * (file-type dispatcher, hash and mimetype on every payload): a mail carrying a zip that
 * holds a base64-encoded PE unpacks all the way down without naming a single worker.
 */
import { createHash } from 'node:crypto';
import { outOfTheBoxDispatch } from '../../src/app/context';
import { builtinPlugins } from '../../src/plugins/builtin';
import type { PayloadResults } from '../../src/model/schemas';
import { buildZip } from '../fixtures/builders-a';
import { buildMail, buildPe32 } from '../fixtures/builders-b';
import { ScanEnv } from '../harness/stoq';

let env: ScanEnv;

beforeAll(async () => {
  env = await ScanEnv.start({ builtins: builtinPlugins });
});

afterAll(async () => {
  await env?.close();
});

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');
const hashOf = (result: PayloadResults) => (result.workers.hash as { sha256: string }).sha256;

test('a mail with a zip attachment holding a base64-encoded PE unpacks to all four payloads', async () => {
  const pe = buildPe32({ imports: { 'kernel32.dll': ['ExitProcess'] } }).bytes;
  const encoded = Buffer.from(pe.toString('base64').replace(/(.{76})/g, '$1\r\n'));
  const zip = await buildZip([{ name: 'invoice.txt', content: encoded }]);
  const mail = await buildMail({
    subject: 'Invoice',
    attachments: [{ filename: 'invoice.zip', content: zip, contentType: 'application/zip' }],
  });

  const { response } = await env.scan(mail, outOfTheBoxDispatch(env.registry), {
    filename: 'invoice.eml',
  });

  expect(response.errors).toEqual([]);
  const byHash = new Map(response.results.map((result) => [hashOf(result), result]));
  const mailResult = byHash.get(sha256(mail))!;
  const zipResult = byHash.get(sha256(zip))!;
  const blobResult = byHash.get(sha256(encoded))!;
  const peResult = byHash.get(sha256(pe))!;
  expect([mailResult, zipResult, blobResult, peResult].every(Boolean)).toBe(true);

  expect(zipResult.extracted_from).toEqual([mailResult.payload_id]);
  expect(zipResult.extracted_by).toEqual(['smtp']);
  expect(zipResult.payload_meta.extra_data).toMatchObject({ filename: 'invoice.zip' });
  expect(blobResult.extracted_from).toEqual([zipResult.payload_id]);
  expect(blobResult.extracted_by).toEqual(['decompress']);
  expect(blobResult.payload_meta.extra_data).toMatchObject({ filename: 'invoice.txt' });
  expect(peResult.extracted_from).toEqual([blobResult.payload_id]);
  expect(peResult.extracted_by).toEqual(['b64decode']);

  expect(mailResult.plugins_run.workers.sort()).toEqual(['hash', 'mimetype', 'smtp']);
  expect(mailResult.workers.smtp).toMatchObject({ subject: 'Invoice' });
  expect(zipResult.plugins_run.workers).toContain('decompress');
  expect(blobResult.plugins_run.workers).toContain('b64decode');
  expect(peResult.plugins_run.workers).toContain('peinfo');
  expect(peResult.workers.peinfo).toMatchObject({ imports: expect.anything() });
  expect((peResult.workers.mimetype as { mimetype: string }).mimetype).toMatch(
    /dosexec|portable-executable/,
  );
});
