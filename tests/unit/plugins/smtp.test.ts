import type { PluginInstance } from '../../../src/plugins/api';
import smtp, { type SmtpResults } from '../../../src/plugins/builtin/smtp';
import { contentToBuffer, payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildMail, buildPe32 } from '../../fixtures/builders-b';

async function create(options: Record<string, unknown> = {}): Promise<PluginInstance> {
  return smtp.create(smtp.options.parse(options), {
    logger: {} as never,
    stoqHome: '/nonexistent',
    blobStore: {} as never,
  });
}

async function scan(content: Buffer | string, options: Record<string, unknown> = {}) {
  const plugin = await create(options);
  const result = await plugin.worker!.scan(payloadFromBuffer(content), testRequest());
  const extracted = await Promise.all(
    (result!.extracted ?? []).map(async (e) => ({
      bytes: await contentToBuffer(e.content),
      extra: e.payload_meta?.extra_data,
    })),
  );
  return { results: result!.results as SmtpResults, extracted };
}

describe('smtp worker', () => {
  const invoice = Buffer.from('%PDF-1.4\n% not really a pdf but close enough\n');
  const exe = buildPe32().bytes;
  let mail: Buffer;

  beforeAll(async () => {
    mail = await buildMail({
      from: 'Alice Sender <alice@example.org>',
      to: 'bob@example.net, Carol <carol@example.net>',
      subject: 'Invoice 42',
      text: 'Please see the attached invoice.',
      html: '<p>Please see the <b>attached</b> invoice.</p>',
      headers: { 'X-Mailer': 'FixtureMailer 1.0' },
      attachments: [
        { filename: 'invoice.pdf', content: invoice, contentType: 'application/pdf' },
        { filename: 'update.exe', content: exe, contentType: 'application/octet-stream' },
      ],
    });
  });

  it('extracts each attachment with its filename and content type', async () => {
    const { extracted } = await scan(mail);

    expect(extracted).toHaveLength(2);
    expect(extracted[0].bytes.equals(invoice)).toBe(true);
    expect(extracted[0].extra).toEqual({
      filename: 'invoice.pdf',
      content_type: 'application/pdf',
      content_id: null,
    });
    expect(extracted[1].bytes.equals(exe)).toBe(true);
    expect(extracted[1].extra).toMatchObject({ filename: 'update.exe' });
  });

  it('reports addresses, subject, date and bodies', async () => {
    const { results } = await scan(mail);

    expect(results).toMatchObject({
      message_id: '<fixture-1@example.org>',
      subject: 'Invoice 42',
      date: '2024-03-01T10:00:00.000Z',
      from: [{ address: 'alice@example.org', name: 'Alice Sender' }],
      to: [
        { address: 'bob@example.net', name: '' },
        { address: 'carol@example.net', name: 'Carol' },
      ],
      cc: [],
      body: 'Please see the attached invoice.',
      body_html: '<p>Please see the <b>attached</b> invoice.</p>',
      body_truncated: false,
      skipped_attachments: 0,
    });
    expect(results.attachments).toEqual([
      {
        filename: 'invoice.pdf',
        content_type: 'application/pdf',
        size: invoice.length,
        content_id: null,
      },
      {
        filename: 'update.exe',
        content_type: 'application/octet-stream',
        size: exe.length,
        content_id: null,
      },
    ]);
  });

  it('lists every header under its lowercase name', async () => {
    const { results } = await scan(mail);

    expect(results.headers['x-mailer']).toEqual(['FixtureMailer 1.0']);
    expect(results.headers.subject).toEqual(['Invoice 42']);
    expect(results.headers['content-type'][0]).toMatch(/^multipart\/mixed; boundary=/);
  });

  it('omits bodies when asked and cuts long ones at max_body_chars', async () => {
    const omitted = await scan(mail, { omit_body: true });
    const cut = await scan(mail, { max_body_chars: 6 });

    expect([omitted.results.body, omitted.results.body_html]).toEqual([null, null]);
    expect(cut.results.body).toBe('Please');
    expect(cut.results.body_truncated).toBe(true);
  });

  it('extracts at most max_attachments and counts the rest', async () => {
    const { results, extracted } = await scan(mail, { max_attachments: 1 });

    expect(extracted).toHaveLength(1);
    expect(results.skipped_attachments).toBe(1);
  });

  it('parses a hand-written message with a base64 attachment and folded headers', async () => {
    const raw = [
      'From: x@example.com',
      'Subject: folded',
      '  subject line',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'body text',
      '--b1',
      'Content-Type: application/zip; name="a.zip"',
      'Content-Disposition: attachment; filename="a.zip"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('PK\x03\x04zipdata', 'latin1').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n');

    const { results, extracted } = await scan(raw);

    expect(results.headers.subject).toEqual(['folded subject line']);
    expect(results.body).toBe('body text');
    expect(extracted.map((e) => e.bytes.toString('latin1'))).toEqual(['PK\x03\x04zipdata']);
    expect(extracted[0].extra).toMatchObject({
      filename: 'a.zip',
      content_type: 'application/zip',
    });
  });

  it('treats binary garbage as a message without headers rather than crashing', async () => {
    const { results, extracted } = await scan(Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13, 10]));

    expect(results.subject).toBeNull();
    expect(extracted).toEqual([]);
  });
});
