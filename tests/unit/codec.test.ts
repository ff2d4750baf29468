import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ConfigError, describeZodIssues } from '../../src/config/errors';
import {
  CodecKeys,
  codecConfigSchema,
  codecFromConfig,
  dataConverterFor,
  ENCODING_ENCRYPTED,
  ENCODING_ZLIB,
  METADATA_COMPRESSION,
  METADATA_KEY_ID,
  PayloadCodecError,
  readKeyFile,
  StoqPayloadCodec,
} from '../../src/temporal/codec';

/** A scan plan shaped like the ones workflows carry: repetitive JSON, well over 256 bytes. */
function scanPlanPayload(): Payload {
  const plan = {
    scanId: 'scan-4f1c',
    dispatchers: ['yara', 'filetype'],
    workers: Array.from({ length: 12 }, (_, i) => ({ name: `worker-${i}`, options: { depth: i } })),
    payloadRef: { key: 'blobs/ab/abcdef0123456789', size: 48213 },
  };
  return defaultPayloadConverter.toPayload(plan);
}

function encoding(payload: Payload): string {
  return Buffer.from(payload.metadata?.encoding ?? []).toString();
}

function meta(payload: Payload, key: string): string {
  return Buffer.from(payload.metadata?.[key] ?? []).toString();
}

function keys(...ids: string[]): { keys: CodecKeys; raw: Map<string, Buffer> } {
  const raw = new Map(ids.map((id) => [id, randomBytes(32)]));
  return { keys: new CodecKeys(raw), raw };
}

function bytesOf(payload: Payload): Buffer {
  return Buffer.from(payload.data ?? []);
}

/** Metadata as hex strings: Buffer and Uint8Array of the same bytes compare equal. */
function metadataHex(payload: Payload): Record<string, string> {
  const entries = Object.entries(payload.metadata ?? {});
  return Object.fromEntries(entries.map(([k, v]) => [k, Buffer.from(v).toString('hex')]));
}

describe('StoqPayloadCodec', () => {
  it('compresses a large payload and restores it exactly', async () => {
    const codec = new StoqPayloadCodec();
    const original = scanPlanPayload();

    const [encoded] = await codec.encode([original]);
    const [decoded] = await codec.decode([encoded]);

    expect(encoding(encoded)).toBe(ENCODING_ZLIB);
    expect(bytesOf(encoded).length).toBeLessThan(bytesOf(original).length);
    expect(bytesOf(encoded).includes('worker-11')).toBe(false);
    expect(metadataHex(decoded)).toEqual(metadataHex(original));
    expect(bytesOf(decoded)).toEqual(bytesOf(original));
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(
      defaultPayloadConverter.fromPayload(original),
    );
  });

  it('leaves a small payload as it is when only compressing', async () => {
    const codec = new StoqPayloadCodec();
    const small = defaultPayloadConverter.toPayload({ scanId: 'scan-1' });

    const [encoded] = await codec.encode([small]);

    expect(encoded).toBe(small);
    expect(encoding(encoded)).toBe('json/plain');
  });

  it('leaves a large payload uncompressed when deflate does not shrink it', async () => {
    const codec = new StoqPayloadCodec();
    const noise = defaultPayloadConverter.toPayload(new Uint8Array(randomBytes(4096)));

    const [encoded] = await codec.encode([noise]);

    expect(encoded).toBe(noise);
  });

  it('does not compress when compression is off', async () => {
    const codec = new StoqPayloadCodec({ compress: false });
    const original = scanPlanPayload();

    expect((await codec.encode([original]))[0]).toBe(original);
  });

  it('encrypts and compresses with the active key and decrypts back', async () => {
    const { keys: ring } = keys('k1');
    const codec = new StoqPayloadCodec({ keys: ring, encryptionKeyId: 'k1' });
    const original = scanPlanPayload();

    const [encoded] = await codec.encode([original]);
    const [decoded] = await codec.decode([encoded]);

    expect(encoding(encoded)).toBe(ENCODING_ENCRYPTED);
    expect(meta(encoded, METADATA_KEY_ID)).toBe('k1');
    expect(meta(encoded, METADATA_COMPRESSION)).toBe('zlib');
    expect(bytesOf(encoded).includes('scan-4f1c')).toBe(false);
    expect(metadataHex(decoded)).toEqual(metadataHex(original));
    expect(bytesOf(decoded)).toEqual(bytesOf(original));
  });

  it('encrypts a small payload without compressing it, hiding its text and encoding', async () => {
    const { keys: ring } = keys('k1');
    const codec = new StoqPayloadCodec({ keys: ring, encryptionKeyId: 'k1' });
    const small = defaultPayloadConverter.toPayload('secret-ish plan');

    const [encoded] = await codec.encode([small]);
    const [decoded] = await codec.decode([encoded]);

    expect(meta(encoded, METADATA_COMPRESSION)).toBe('none');
    expect(bytesOf(encoded).includes('secret-ish')).toBe(false);
    expect(bytesOf(encoded).includes('json/plain')).toBe(false);
    expect(defaultPayloadConverter.fromPayload(decoded)).toBe('secret-ish plan');
  });

  it('uses a fresh nonce for every payload', async () => {
    const { keys: ring } = keys('k1');
    const codec = new StoqPayloadCodec({ keys: ring, encryptionKeyId: 'k1' });
    const payload = defaultPayloadConverter.toPayload('same text');

    const [a, b] = await codec.encode([payload, payload]);

    expect(bytesOf(a).equals(bytesOf(b))).toBe(false);
  });

  it('decrypts payloads of a retired key after the active key rotates', async () => {
    const { raw } = keys('2025-01', '2025-06');
    const before = new StoqPayloadCodec({ keys: new CodecKeys(raw), encryptionKeyId: '2025-01' });
    const after = new StoqPayloadCodec({ keys: new CodecKeys(raw), encryptionKeyId: '2025-06' });
    const [old] = await before.encode([scanPlanPayload()]);

    const [fresh] = await after.encode([scanPlanPayload()]);
    const decoded = await after.decode([old, fresh]);

    expect(meta(fresh, METADATA_KEY_ID)).toBe('2025-06');
    expect(decoded.map((p) => bytesOf(p))).toEqual([
      bytesOf(scanPlanPayload()),
      bytesOf(scanPlanPayload()),
    ]);
  });

  it('fails on an unknown key id with an error naming it', async () => {
    const writer = new StoqPayloadCodec({ keys: keys('gone').keys, encryptionKeyId: 'gone' });
    const reader = new StoqPayloadCodec({ keys: keys('current').keys, encryptionKeyId: 'current' });
    const [encoded] = await writer.encode([scanPlanPayload()]);

    const decoding = reader.decode([encoded]);

    await expect(decoding).rejects.toThrow(PayloadCodecError);
    await expect(reader.decode([encoded])).rejects.toThrow(/key id "gone".*\(current\)/);
  });

  it('rejects a tampered ciphertext', async () => {
    const codec = new StoqPayloadCodec({ keys: keys('k1').keys, encryptionKeyId: 'k1' });
    const [encoded] = await codec.encode([scanPlanPayload()]);
    const data = Buffer.from(bytesOf(encoded));
    data[data.length - 3] ^= 0x01;

    const decoding = codec.decode([{ ...encoded, data }]);

    await expect(decoding).rejects.toThrow(/failed authentication with key "k1"/);
  });

  it('rejects a payload whose compression flag was swapped', async () => {
    const codec = new StoqPayloadCodec({ keys: keys('k1').keys, encryptionKeyId: 'k1' });
    const [encoded] = await codec.encode([scanPlanPayload()]);
    const metadata = { ...encoded.metadata, [METADATA_COMPRESSION]: Buffer.from('none') };

    await expect(codec.decode([{ ...encoded, metadata }])).rejects.toThrow(/failed authentication/);
  });

  it('decrypting with a different key under the same id fails', async () => {
    const writer = new StoqPayloadCodec({ keys: keys('k1').keys, encryptionKeyId: 'k1' });
    const reader = new StoqPayloadCodec({ keys: keys('k1').keys });
    const [encoded] = await writer.encode([scanPlanPayload()]);

    await expect(reader.decode([encoded])).rejects.toThrow(/altered or the key is wrong/);
  });

  it('passes payloads of other encoders through untouched', async () => {
    const codec = new StoqPayloadCodec({ keys: keys('k1').keys, encryptionKeyId: 'k1' });
    const others: Payload[] = [
      defaultPayloadConverter.toPayload({ recorded: 'before the codec' }),
      { metadata: { encoding: Buffer.from('binary/encrypted') }, data: randomBytes(40) },
      { metadata: { encoding: Buffer.from('binary/null') } },
    ];

    const decoded = await codec.decode(others);

    expect(decoded).toEqual(others);
    decoded.forEach((payload, i) => expect(payload).toBe(others[i]));
  });

  it('refuses a stoQ encoding it does not know', async () => {
    const codec = new StoqPayloadCodec();
    const future = {
      metadata: { encoding: Buffer.from('binary/stoq-zstd') },
      data: randomBytes(8),
    };

    await expect(codec.decode([future])).rejects.toThrow(/"binary\/stoq-zstd" is not one/);
  });

  it('bounds what a compressed payload may inflate to', async () => {
    const codec = new StoqPayloadCodec({ maxDecodedBytes: 64 * 1024 });
    const big = defaultPayloadConverter.toPayload('a'.repeat(1024 * 1024));
    const [bomb] = await new StoqPayloadCodec().encode([big]);

    expect(bytesOf(bomb).length).toBeLessThan(4096);
    await expect(codec.decode([bomb])).rejects.toThrow(/inflates past 65536 bytes/);
  });

  it('says so when compressed data is not zlib', async () => {
    const codec = new StoqPayloadCodec();
    const broken = { metadata: { encoding: Buffer.from(ENCODING_ZLIB) }, data: randomBytes(64) };

    await expect(codec.decode([broken])).rejects.toThrow(/not valid zlib data/);
  });

  it('refuses an active key that is not among its keys', () => {
    expect(() => new StoqPayloadCodec({ keys: keys('a').keys, encryptionKeyId: 'b' })).toThrow(
      /encryption key "b" is not among/,
    );
  });

  it('never shows key material when printed', () => {
    const { keys: ring, raw } = keys('k1');
    const codec = new StoqPayloadCodec({ keys: ring, encryptionKeyId: 'k1' });
    const key = raw.get('k1')!;
    const printed = [
      inspect(codec, { depth: 10 }),
      inspect(ring),
      JSON.stringify(codec),
      JSON.stringify(ring),
    ];

    for (const text of printed) {
      expect(text.includes(key.toString('base64'))).toBe(false);
      expect(text.includes(key.toString('hex'))).toBe(false);
    }
    expect(inspect(ring)).toContain('k1');
  });
});

describe('codecConfigSchema', () => {
  const key = () => randomBytes(32).toString('base64');

  function problems(input: unknown): string {
    const parsed = codecConfigSchema.safeParse(input);
    if (parsed.success) throw new Error('expected the config to be refused');
    return describeZodIssues('stoq.cfg [codec]', parsed.error, input);
  }

  it('defaults to neither compression nor encryption', () => {
    const config = codecConfigSchema.parse({});

    expect(config).toEqual({
      compress: false,
      encryption_key_id: undefined,
      encryption_keys: undefined,
    });
  });

  it('reads INI booleans', () => {
    expect(codecConfigSchema.parse({ compress: 'no' }).compress).toBe(false);
    expect(codecConfigSchema.parse({ compress: false }).compress).toBe(false);
  });

  it('turns inline keys into a key ring', async () => {
    const config = codecConfigSchema.parse({
      encryption_key_id: 'k2',
      encryption_keys: { k1: key(), k2: key() },
    });
    const codec = codecFromConfig(config);

    expect(config.encryption_keys).toBeInstanceOf(CodecKeys);
    expect((config.encryption_keys as CodecKeys).ids).toEqual(['k1', 'k2']);
    const [encoded] = await codec.encode([scanPlanPayload()]);
    expect(meta(encoded, METADATA_KEY_ID)).toBe('k2');
  });

  it('names the key whose value is not a 32-byte base64 key, without quoting it', () => {
    const short = randomBytes(16).toString('base64');
    const message = problems({ encryption_keys: { good: key(), short, odd: 'not base64!' } });

    expect(message).toContain('encryption_keys.short: decodes to 16 bytes, expected 32');
    expect(message).toContain('encryption_keys.odd: is not base64');
    expect(message).not.toContain(short);
    expect(message).not.toContain('not base64!"');
    expect(message).not.toContain('good');
  });

  it('names encryption_key_id when it has no keys or names a missing one', () => {
    expect(problems({ encryption_key_id: 'k1' })).toMatch(
      /encryption_key_id: needs encryption_keys/,
    );
    expect(problems({ encryption_key_id: 'k9', encryption_keys: { k1: key() } })).toMatch(
      /encryption_key_id: names no key in encryption_keys, got "k9"/,
    );
  });

  it('refuses keys it does not know and bad key ids', () => {
    expect(problems({ compres: 'true' })).toMatch(/compres/);
    expect(problems({ encryption_key_id: 'has space', encryption_keys: 'x' })).toMatch(
      /encryption_key_id: a key id is 1-64/,
    );
  });
});

describe('key files', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stoq-codec-keys-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads id=base64key lines, skipping comments and blank lines', () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const file = join(dir, 'codec.keys');
    writeFileSync(
      file,
      `# rotated 2025-06\n\n2025-01=${a.toString('base64')}\r\n2025-06 = ${b.toString('base64')}\n`,
    );

    const ring = readKeyFile(file);

    expect(ring.ids).toEqual(['2025-01', '2025-06']);
    expect(ring.get('2025-06')).toEqual(b);
  });

  it('names the file, line and key id of a bad line without quoting the line', () => {
    const file = join(dir, 'codec.keys');
    const short = randomBytes(31).toString('base64');
    writeFileSync(file, `ok=${randomBytes(32).toString('base64')}\nshort=${short}\n`);

    const read = () => readKeyFile(file);

    expect(read).toThrow(ConfigError);
    expect(read).toThrow(
      `codec key file ${file} line 2: key "short" decodes to 31 bytes, expected 32`,
    );
    try {
      read();
    } catch (err) {
      expect((err as Error).message).not.toContain(short);
    }
  });

  it('refuses a line without "=" and a repeated id', () => {
    const file = join(dir, 'codec.keys');
    const line = `k=${randomBytes(32).toString('base64')}`;

    writeFileSync(file, `${randomBytes(32).toString('base64').replace(/=/g, '')}\n`);
    expect(() => readKeyFile(file)).toThrow(/line 1: expected id=base64key/);
    writeFileSync(file, `${line}\n${line}\n`);
    expect(() => readKeyFile(file)).toThrow(/line 2: key "k" appears twice/);
  });

  it('builds the data converter from a key file relative to the stoQ home', async () => {
    writeFileSync(join(dir, 'codec.keys'), `k1=${randomBytes(32).toString('base64')}\n`);
    const config = codecConfigSchema.parse({
      encryption_key_id: 'k1',
      encryption_keys: 'codec.keys',
    });

    const converter = dataConverterFor(config, { baseDir: dir });
    const [codec] = converter.payloadCodecs ?? [];
    const [encoded] = await codec.encode([scanPlanPayload()]);

    expect(meta(encoded, METADATA_KEY_ID)).toBe('k1');
    expect(bytesOf((await codec.decode([encoded]))[0])).toEqual(bytesOf(scanPlanPayload()));
  });

  it('refuses a key written where the key file path belongs, without quoting it', () => {
    const key = randomBytes(32).toString('base64');
    const config = codecConfigSchema.parse({ encryption_keys: key });

    expect(() => dataConverterFor(config, { baseDir: dir })).toThrow(/holds a key, not a key file/);
    expect(() => dataConverterFor(config, { baseDir: dir })).not.toThrow(key);
  });

  it('says when the active key is missing from the key file, or the file is missing', () => {
    writeFileSync(join(dir, 'codec.keys'), `k1=${randomBytes(32).toString('base64')}\n`);
    const config = codecConfigSchema.parse({
      encryption_key_id: 'k2',
      encryption_keys: 'codec.keys',
    });
    const missing = codecConfigSchema.parse({ encryption_keys: 'nope.keys' });

    expect(() => dataConverterFor(config, { baseDir: dir })).toThrow(
      /"k2" is not in the key file codec.keys/,
    );
    expect(() => dataConverterFor(missing, { baseDir: dir })).toThrow(/codec key file .*nope.keys/);
  });
});
