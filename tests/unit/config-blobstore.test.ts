import { ConfigError } from '../../src/config/errors';
import { parseStoqConfig } from '../../src/config/stoq-config';
import { openBlobStore, S3BlobStore } from '../../src/blobstore';

function parse(text: string) {
  return parseStoqConfig(text, { home: '/tmp/stoq-home', source: 'stoq.cfg' });
}

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('stoq.cfg [blobstore]', () => {
  test('defaults to a filesystem store under the home, or at root', () => {
    expect(parse('').blobstore).toEqual({ kind: 'filesystem', root: '/tmp/stoq-home/blobs' });
    expect(parse('[blobstore]\nkind = filesystem\nroot = /srv/stoq\n').blobstore).toEqual({
      kind: 'filesystem',
      root: '/srv/stoq',
    });
  });

  test('kind = s3 maps the snake_case keys to the store config', () => {
    const config = parse(
      [
        '[blobstore]',
        'kind = s3',
        'bucket = stoq-shared',
        'prefix = prod/',
        'endpoint = http://minio.internal:9000',
        'region = eu-west-1',
        'force_path_style = false',
        'access_key_id = AKIAEXAMPLE',
        `secret_access_key = ${SECRET}`,
        'cache_dir = /var/cache/stoq',
      ].join('\n'),
    );

    expect(config.blobstore).toEqual({
      kind: 's3',
      bucket: 'stoq-shared',
      prefix: 'prod/',
      endpoint: 'http://minio.internal:9000',
      region: 'eu-west-1',
      forcePathStyle: false,
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: SECRET,
      cacheDir: '/var/cache/stoq',
    });
    expect(openBlobStore(config.blobstore)).toBeInstanceOf(S3BlobStore);
  });

  test('kind = s3 needs only a bucket; the rest stays absent for the store defaults', () => {
    expect(parse('[blobstore]\nkind = s3\nbucket = b\n').blobstore).toEqual({
      kind: 's3',
      bucket: 'b',
    });
  });

  test.each([
    ['a missing bucket', 'kind = s3', /\[blobstore\] bucket: required with kind = s3/],
    ['root with s3', 'kind = s3\nbucket = b\nroot = /x', /\[blobstore\] root: .*kind = filesystem/],
    ['bucket with filesystem', 'bucket = b', /\[blobstore\] bucket: .*kind = s3/],
    ['an unknown kind', 'kind = ftp', /\[blobstore\] kind: .*got "ftp"/],
    ['an unknown key', 'kind = s3\nbucket = b\nsecret = x', /\[blobstore\].*secret/],
    ['an endpoint that is no URL', 'kind = s3\nbucket = b\nendpoint = minio:9000', /endpoint/],
    ['a bad boolean', 'kind = s3\nbucket = b\nforce_path_style = maybe', /force_path_style/],
  ])('rejects %s, naming the key', (_label, body, message) => {
    expect(() => parse(`[blobstore]\n${body}\n`)).toThrow(ConfigError);
    expect(() => parse(`[blobstore]\n${body}\n`)).toThrow(message);
  });

  test('one credential without the other is an error that never quotes the secret', () => {
    const attempt = () =>
      parse(`[blobstore]\nkind = s3\nbucket = b\nsecret_access_key = ${SECRET}\n`);

    expect(attempt).toThrow(/\[blobstore\] secret_access_key: .*set both or neither/);
    expect(attempt).not.toThrow(new RegExp(SECRET.slice(0, 12)));
  });

  test('a malformed secret is named but not quoted', () => {
    const attempt = () =>
      parse(`[blobstore]\nkind = s3\nbucket = b\naccess_key_id = ${SECRET}\nsecret_access_key =\n`);

    expect(attempt).toThrow(/secret_access_key/);
    expect(attempt).not.toThrow(new RegExp(SECRET.slice(0, 12)));
  });
});
