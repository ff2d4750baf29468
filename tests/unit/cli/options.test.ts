import { ConfigError } from '../../../src/config/errors';
import {
  collectList,
  parseKeyValue,
  parsePluginOpt,
  pluginOptsFrom,
} from '../../../src/cli/options';
import { scanIdForRequest } from '../../../src/cli/ingest';

test('plugin options split at the first colon and the first equals sign after it', () => {
  expect(parsePluginOpt('yara:rules=/r/a.yar')).toEqual({
    plugin: 'yara',
    key: 'rules',
    value: '/r/a.yar',
  });
  expect(parsePluginOpt('http:url=https://x.test:8443/?a=b')).toEqual({
    plugin: 'http',
    key: 'url',
    value: 'https://x.test:8443/?a=b',
  });
  expect(parsePluginOpt('t:expr=')).toEqual({ plugin: 't', key: 'expr', value: '' });
  expect(pluginOptsFrom(['a:x=1', 'a:y=2', 'b:x=3'])).toEqual({
    a: { x: '1', y: '2' },
    b: { x: '3' },
  });
});

test.each(['noplugin', ':key=v', 'plugin:=v', 'plugin:key'])(
  'plugin option %p is refused naming the flag',
  (raw) => {
    expect(() => parsePluginOpt(raw)).toThrow(ConfigError);
    expect(() => parsePluginOpt(raw)).toThrow(/^--plugin-opts: expected NAME:KEY=VALUE/);
  },
);

test('request extra splits at the first equals sign and list flags accept repeats and commas', () => {
  expect(parseKeyValue('--request-extra', 'k=a=b')).toEqual({ key: 'k', value: 'a=b' });
  expect(() => parseKeyValue('--request-extra', '=v')).toThrow(
    /--request-extra: expected KEY=VALUE/,
  );
  expect(collectList(' yara, hash ,', collectList('mimetype'))).toEqual([
    'mimetype',
    'yara',
    'hash',
  ]);
});

test('a request id always maps to the same UUID-shaped scan id, and different ids differ', () => {
  const id = scanIdForRequest('queue-message-17');
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(scanIdForRequest('queue-message-17')).toBe(id);
  expect(scanIdForRequest('queue-message-18')).not.toBe(id);
});
