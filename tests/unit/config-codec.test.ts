import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/config/errors';
import { parseStoqConfig } from '../../src/config/stoq-config';
import { CodecKeys } from '../../src/temporal/codec';

const parse = (text: string) =>
  parseStoqConfig(text, { home: '/tmp/stoq-home', source: 'stoq.cfg' });

test('without a [codec] section the codec neither compresses nor encrypts', () => {
  const config = parse('[core]\nmax_recursion = 2\n');
  expect(config.codec).toEqual({
    compress: false,
    encryption_key_id: undefined,
    encryption_keys: undefined,
  });
  expect(config.pluginSections).toEqual({});
});

test('[codec] with inline keys is read and is not taken for a plugin section', () => {
  const key = randomBytes(32).toString('base64');
  const config = parse(
    `[codec]\ncompress = false\nencryption_key_id = dev\n\n[codec.encryption_keys]\ndev = ${key}\n`,
  );
  expect(config.codec.compress).toBe(false);
  expect(config.codec.encryption_key_id).toBe('dev');
  expect(config.codec.encryption_keys).toBeInstanceOf(CodecKeys);
  expect(config.pluginSections).toEqual({});
  expect(JSON.stringify(config)).not.toContain(key);
});

test('codec mistakes name the key and never quote key material', () => {
  const short = randomBytes(16).toString('base64');
  const read = () =>
    parse(`[codec]\nencryption_key_id = dev\n[codec.encryption_keys]\ndev = ${short}\n`);
  expect(read).toThrow(ConfigError);
  expect(read).toThrow(/\[codec\] encryption_keys\.dev: decodes to 16 bytes/);
  expect(() => read()).not.toThrow(new RegExp(short.replace(/[+/=]/g, '\\$&')));

  const key = randomBytes(32).toString('base64');
  const unknown = () => parse(`[codec]\nencryption_key = ${key}\n`);
  expect(unknown).toThrow(/\[codec\]: .*encryption_key/);
  try {
    unknown();
  } catch (error) {
    expect((error as Error).message).not.toContain(key);
  }
  expect(() => parse('[codec]\ncompress = maybe\n')).toThrow(/\[codec\] compress: /);
});
