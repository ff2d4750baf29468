import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { CodecKeys, ENCODING_ENCRYPTED, StoqPayloadCodec } from '../../src/temporal/codec';
import {
  runCodecServerCommand,
  startCodecServer,
  type RunningCodecServer,
} from '../../src/temporal/codec-server';
import { createLogger } from '../../src/log';

const UI_ORIGIN = 'http://localhost:8233';

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

function toJson(payload: Payload): JsonPayload {
  const metadata = Object.entries(payload.metadata ?? {}).map(([k, v]) => [
    k,
    Buffer.from(v).toString('base64'),
  ]);
  return {
    metadata: Object.fromEntries(metadata),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

function fromJson(payload: JsonPayload): Payload {
  const metadata = Object.entries(payload.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')]);
  return { metadata: Object.fromEntries(metadata), data: Buffer.from(payload.data, 'base64') };
}

function codec(keyId = 'k1'): StoqPayloadCodec {
  const keys = new CodecKeys([[keyId, randomBytes(32)]]);
  return new StoqPayloadCodec({ keys, encryptionKeyId: keyId });
}

describe('the codec server', () => {
  let server: RunningCodecServer;
  let serverCodec: StoqPayloadCodec;

  beforeEach(async () => {
    serverCodec = codec();
    server = await startCodecServer({ port: 0, codec: serverCodec, allowedOrigins: [UI_ORIGIN] });
  });

  afterEach(async () => {
    await server?.close();
  });

  function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    return fetch(server.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  it('decodes payloads the workers encoded, as proto3 JSON', async () => {
    const plan = { scanId: 'scan-77', workers: ['hash', 'entropy'] };
    const [encoded] = await serverCodec.encode([defaultPayloadConverter.toPayload(plan)]);

    const response = await post('/decode', { payloads: [toJson(encoded)] });
    const body = (await response.json()) as { payloads: JsonPayload[] };

    expect(response.status).toBe(200);
    expect(body.payloads[0].metadata.encoding).toBe(Buffer.from('json/plain').toString('base64'));
    expect(defaultPayloadConverter.fromPayload(fromJson(body.payloads[0]))).toEqual(plan);
  });

  it('encodes payloads the UI sends, so workers can read them', async () => {
    const input = defaultPayloadConverter.toPayload('started from the UI');

    const response = await post('/default/encode', { payloads: [toJson(input)] });
    const [encoded] = ((await response.json()) as { payloads: JsonPayload[] }).payloads.map(
      fromJson,
    );

    expect(response.status).toBe(200);
    expect(Buffer.from(encoded.metadata!.encoding).toString()).toBe(ENCODING_ENCRYPTED);
    const [decoded] = await serverCodec.decode([encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toBe('started from the UI');
  });

  it('answers an empty list with an empty list', async () => {
    const response = await post('/decode', { payloads: [] });

    expect(await response.json()).toEqual({ payloads: [] });
  });

  it('answers the Web UI preflight for its origin with the headers it sends', async () => {
    const response = await fetch(server.url + '/decode', {
      method: 'OPTIONS',
      headers: {
        origin: UI_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace,authorization',
      },
    });

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = response.headers.get('access-control-allow-headers')?.split(/,\s*/);
    expect(allowed).toEqual(
      expect.arrayContaining(['content-type', 'x-namespace', 'authorization']),
    );
  });

  it('allows the UI origin on the POST itself and no other origin', async () => {
    const fromUi = await post('/decode', { payloads: [] }, { origin: UI_ORIGIN });
    const fromElsewhere = await post('/decode', { payloads: [] }, { origin: 'http://evil.test' });
    const preflight = await fetch(server.url + '/decode', {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST' },
    });

    expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(fromUi.headers.get('access-control-allow-credentials')).toBe('true');
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 400 to a body that is not JSON or not a payload list', async () => {
    const notJson = await post('/decode', '{"payloads": [');
    const notList = await post('/decode', { payloads: 'x' });
    const notBase64 = await post('/decode', {
      payloads: [{ metadata: { encoding: 'json plain' } }],
    });

    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/not JSON/);
    expect(notList.status).toBe(400);
    expect(((await notList.json()) as { error: string }).error).toMatch(/payloads/);
    expect(notBase64.status).toBe(400);
    expect(((await notBase64.json()) as { error: string }).error).toMatch(
      /payloads.0.metadata.encoding: expected base64/,
    );
  });

  it('answers 422 naming the key id when a payload needs a key it lacks', async () => {
    const [foreign] = await codec('k0').encode([defaultPayloadConverter.toPayload('x')]);

    const response = await post('/decode', { payloads: [toJson(foreign)] });

    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: string }).error).toMatch(/key id "k0"/);
  });

  it('answers 413 to a body past the limit, declared or streamed', async () => {
    const big = JSON.stringify({ payloads: [{ data: 'A'.repeat(5 * 1024 * 1024) }] });

    const declared = await post('/decode', big);
    const streamed = await postChunked(server.url + '/decode', big);

    expect(declared.status).toBe(413);
    expect(streamed).toBe(413);
  });

  it('answers 404 to other paths and 405 to other methods', async () => {
    const missing = await post('/nothing', { payloads: [] });
    const wrongMethod = await fetch(server.url + '/decode');

    expect(missing.status).toBe(404);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toContain('POST');
  });
});

/** A POST without Content-Length, so the server only learns the size while reading. */
function postChunked(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    for (let offset = 0; offset < body.length; offset += 64 * 1024)
      req.write(body.slice(offset, offset + 64 * 1024));
    req.end();
  });
}

describe('the codec server with an auth token', () => {
  let server: RunningCodecServer;

  beforeAll(async () => {
    server = await startCodecServer({
      port: 0,
      codec: codec(),
      allowedOrigins: [UI_ORIGIN],
      authToken: 'tok-3141',
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  const decode = (headers: Record<string, string>) =>
    fetch(server.url + '/decode', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: '{"payloads":[]}',
    });

  it('accepts the bearer token', async () => {
    expect((await decode({ authorization: 'Bearer tok-3141' })).status).toBe(200);
  });

  it('refuses a missing or wrong token', async () => {
    const missing = await decode({});
    const wrong = await decode({ authorization: 'Bearer tok-3142' });
    const notBearer = await decode({ authorization: 'tok-3141' });

    expect([missing.status, wrong.status, notBearer.status]).toEqual([401, 401, 401]);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers the preflight without a token, as browsers send none', async () => {
    const response = await fetch(server.url + '/decode', {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST' },
    });

    expect(response.status).toBe(204);
  });
});

describe('startCodecServer options', () => {
  it('refuses an allowed origin that is not an origin', async () => {
    for (const origin of ['*', 'http://localhost:8233/', 'localhost:8233', 'ftp://x.test']) {
      await expect(
        startCodecServer({ port: 0, codec: codec(), allowedOrigins: [origin] }),
      ).rejects.toThrow(`allowed origin "${origin}" is not an origin`);
    }
  });
});

describe('runCodecServerCommand', () => {
  it('serves until its signal aborts, reading the token from the environment', async () => {
    const lines: string[] = [];
    const destination = {
      write: (line: string) => lines.push(line),
    } as unknown as NodeJS.WritableStream;
    const logger = createLogger({ level: 'info', pretty: false, destination });
    const key = randomBytes(32);
    const stop = new AbortController();

    const running = runCodecServerCommand({
      codecConfig: {
        compress: true,
        encryption_key_id: 'k1',
        encryption_keys: new CodecKeys([['k1', key]]),
      },
      port: 0,
      logger,
      signal: stop.signal,
      env: { STOQ_CODEC_AUTH_TOKEN: 'from-env' },
    });
    await waitFor(() => lines.some((line) => line.includes('codec server listening')));
    const { url } = JSON.parse(lines[0]) as { url: string };
    const unauthorized = await fetch(url + '/decode', { method: 'POST', body: '{"payloads":[]}' });
    stop.abort();
    await running;

    expect(unauthorized.status).toBe(401);
    expect(lines.join('')).not.toContain(key.toString('base64'));
    expect(lines.join('')).not.toContain('from-env');
    expect(lines.at(-1)).toContain('codec server stopped');
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!condition()) throw new Error('condition not met in time');
}
