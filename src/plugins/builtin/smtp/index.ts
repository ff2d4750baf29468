/**
 * `smtp` worker: parses an e-mail message (RFC 822 / MIME) with mailparser: headers,
 * addresses, text and HTML bodies, and each attachment as an extracted payload.
 */
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { z } from 'zod';
import { badInput, definePlugin, type ExtractedPayload } from '../../api';

export const smtpOptions = z.object({
  /** Leave the text and HTML bodies out of the result (attachments are still extracted). */
  omit_body: z.boolean().default(false),
  /** Bodies longer than this many characters are cut (and flagged). */
  max_body_chars: z.number().int().positive().default(1_000_000),
  /** Most attachments extracted; the rest are listed as skipped. */
  max_attachments: z.number().int().positive().default(500),
  /** Larger payloads are refused rather than parsed. */
  max_bytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
});

export interface MailAddress {
  address: string | null;
  name: string;
}

/** One attachment as listed in results (its content is an extracted payload). */
export interface MailAttachment {
  filename: string | null;
  content_type: string;
  size: number;
  content_id: string | null;
}

/** The `smtp` worker's result. */
export interface SmtpResults {
  message_id: string | null;
  subject: string | null;
  /** The Date header as ISO 8601, null when absent or unreadable. */
  date: string | null;
  from: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  reply_to: MailAddress[];
  /** Every header, lowercase name to its unfolded value(s), in message order. */
  headers: Record<string, string[]>;
  body: string | null;
  body_html: string | null;
  /** Bodies cut at max_body_chars. */
  body_truncated: boolean;
  attachments: MailAttachment[];
  skipped_attachments: number;
}

function addresses(field: AddressObject | AddressObject[] | undefined): MailAddress[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((o) => o.value.map((a) => ({ address: a.address ?? null, name: a.name })));
}

function rawHeaders(mail: ParsedMail): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const { key, line } of mail.headerLines) {
    const value = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    (headers[key] ??= []).push(value);
  }
  return headers;
}

function cut(
  text: string | false | undefined,
  max: number,
): { value: string | null; cut: boolean } {
  if (typeof text !== 'string') return { value: null, cut: false };
  return text.length > max ? { value: text.slice(0, max), cut: true } : { value: text, cut: false };
}

async function parse(buf: Buffer): Promise<ParsedMail> {
  try {
    return await simpleParser(buf, { skipImageLinks: true, skipTextToHtml: true });
  } catch (err) {
    throw badInput(`not a readable e-mail message: ${(err as Error).message}`, err);
  }
}

export default definePlugin({
  name: 'smtp',
  version: '1.0.0',
  description: 'Parses e-mail: headers, bodies, and attachments as extracted payloads',
  kinds: ['worker'],
  options: smtpOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        if (payload.size > options.max_bytes) {
          throw badInput(
            `payload of ${payload.size} bytes exceeds smtp max_bytes ${options.max_bytes}`,
          );
        }
        const mail = await parse(await payload.bytes({ maxBytes: options.max_bytes }));

        const kept = mail.attachments.slice(0, options.max_attachments);
        const extracted: ExtractedPayload[] = kept.map((a) => ({
          content: a.content,
          payload_meta: {
            extra_data: {
              filename: a.filename ?? null,
              content_type: a.contentType,
              content_id: a.cid ?? null,
            },
          },
        }));
        const text = cut(options.omit_body ? undefined : mail.text, options.max_body_chars);
        const html = cut(options.omit_body ? undefined : mail.html, options.max_body_chars);

        const results: SmtpResults = {
          message_id: mail.messageId ?? null,
          subject: mail.subject ?? null,
          date: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : null,
          from: addresses(mail.from),
          to: addresses(mail.to),
          cc: addresses(mail.cc),
          reply_to: addresses(mail.replyTo),
          headers: rawHeaders(mail),
          body: text.value,
          body_html: html.value,
          body_truncated: text.cut || html.cut,
          attachments: kept.map((a) => ({
            filename: a.filename ?? null,
            content_type: a.contentType,
            size: a.size,
            content_id: a.cid ?? null,
          })),
          skipped_attachments: mail.attachments.length - kept.length,
        };
        return { results, extracted };
      },
    },
  }),
});
