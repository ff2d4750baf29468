/**
 * `stoq codec-server`: Temporal's codec server protocol over plain HTTP, so the Web UI and
 * the `temporal` CLI can show stoQ's encoded payloads decoded. The keys stay here; the UI
 * posts payloads and gets them back decoded (or encoded, when it starts a workflow).
 *
 * Protocol: `POST /decode` and `POST /encode` (also under `/<namespace>/`, for the CLI's
 * endpoint templating) with `{"payloads":[{"metadata":{"k":"<base64>"},"data":"<base64>"}]}`,
 * answered in the same shape. That is proto3 JSON: every bytes field is base64.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { ConfigError } from '../config/errors';
import type { Logger } from '../log';
import { codecFromConfig, PayloadCodecError, type CodecConfig } from './codec';

/** The Web UI of `temporal server start-dev`, the usual first user of a codec server. */
export const DEFAULT_ALLOWED_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];
export const DEFAULT_CODEC_SERVER_PORT = 8888;
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** The environment variable the command reads the auth token from, to keep it out of `ps`. */
export const AUTH_TOKEN_ENV = 'STOQ_CODEC_AUTH_TOKEN';

const REQUEST_TIMEOUT_MS = 30_000;
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const jsonPayloadSchema = z.object({
  metadata: z.record(z.string(), z.string().regex(BASE64, 'expected base64')).nullish(),
  data: z.string().regex(BASE64, 'expected base64').nullish(),
});
const requestSchema = z.object({ payloads: z.array(jsonPayloadSchema) });
type JsonPayload = z.infer<typeof jsonPayloadSchema>;

export interface CodecServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1: payloads decode for whoever reaches the port. */
  host?: string;
  codec: PayloadCodec;
  /** Exact origins (`scheme://host[:port]`) whose pages may call the server. */
  allowedOrigins: string[];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  authToken?: string;
  maxBodyBytes?: number;
  logger?: Logger;
}

/** A listening codec server. */
export interface RunningCodecServer {
  /** `http://host:port`, the endpoint to give the UI or CLI. */
  url: string;
  close(): Promise<void>;
}

/** An answer other than 200, with the message the client sees. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const origins = new Set(options.allowedOrigins.map(checkOrigin));
  const expectedToken = options.authToken ? digest(options.authToken) : undefined;
  const handle = (req: IncomingMessage, res: ServerResponse) =>
    serve(req, res, { ...options, origins, expectedToken });

  const server = createServer((req, res) => void handle(req, res));
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port, host);

  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shownHost}:${port}`, close: () => closeServer(server) };
}

interface ServeContext extends CodecServerOptions {
  origins: Set<string>;
  expectedToken?: Buffer;
}

async function serve(req: IncomingMessage, res: ServerResponse, context: ServeContext) {
  const started = Date.now();
  let status = 200;
  let count = 0;
  try {
    const allowed = corsHeaders(req, context.origins);
    for (const [name, value] of Object.entries(allowed)) res.setHeader(name, value);

    if (req.method === 'OPTIONS') {
      status = preflight(req, res, allowed);
      return;
    }
    const direction = route(req);
    authorize(req, context.expectedToken);

    const payloads = parseRequest(
      await readBody(req, context.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
    );
    count = payloads.length;
    const converted = await convert(context.codec, direction, payloads);
    sendJson(res, 200, { payloads: converted.map(toJson) });
  } catch (err) {
    status = answerError(res, err, context.logger);
  } finally {
    const fields = {
      method: req.method,
      path: req.url,
      status,
      payloads: count,
      ms: Date.now() - started,
    };
    context.logger?.debug(fields, 'codec request');
  }
}

/** CORS headers for an allowed origin; none for others, so the browser refuses the answer. */
function corsHeaders(req: IncomingMessage, origins: Set<string>): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin || !origins.has(origin)) return { Vary: 'Origin' };
  return {
    Vary: 'Origin',
    'Access-Control-Allow-Origin': origin,
    // The UI's "include cross-origin credentials" setting sends cookies.
    'Access-Control-Allow-Credentials': 'true',
  };
}

function preflight(
  req: IncomingMessage,
  res: ServerResponse,
  allowed: Record<string, string>,
): number {
  if (!allowed['Access-Control-Allow-Origin']) {
    sendJson(res, 403, { error: `origin ${req.headers.origin ?? '(none)'} is not allowed` });
    return 403;
  }
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '600',
  });
  res.end();
  return 204;
}

function route(req: IncomingMessage): 'encode' | 'decode' {
  const path = new URL(req.url ?? '/', 'http://codec').pathname;
  const match = /^(?:\/[^/]+)?\/(encode|decode)\/?$/.exec(path);
  if (!match) throw new HttpError(404, `no such endpoint ${path}: use POST /encode or /decode`);
  if (req.method !== 'POST') {
    throw new HttpError(405, `${req.method} ${path}: use POST`, { Allow: 'POST, OPTIONS' });
  }
  return match[1] as 'encode' | 'decode';
}

// TODO(codec-server): the Web UI's "pass access token" sends the user's OIDC token, which a
// fixed token never matches; verifying those tokens (JWKS, audience) is not done yet.
function authorize(req: IncomingMessage, expected: Buffer | undefined): void {
  if (!expected) return;

  const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  // Digests have one length, which timingSafeEqual needs, and hide the token's length.
  if (!given || !timingSafeEqual(digest(given), expected)) {
    throw new HttpError(401, 'missing or wrong bearer token', { 'WWW-Authenticate': 'Bearer' });
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(req, limit);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(req, limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(req: IncomingMessage, limit: number): HttpError {
  // Drain the rest without keeping it, so the client reads the answer instead of a reset.
  req.resume();
  return new HttpError(413, `request body exceeds ${limit} bytes`, { Connection: 'close' });
}

function parseRequest(body: Buffer): Payload[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `request body is not JSON: ${(err as Error).message}`);
  }

  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(400, `request body ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.payloads.map(fromJson);
}

async function convert(codec: PayloadCodec, direction: 'encode' | 'decode', payloads: Payload[]) {
  try {
    return direction === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
  } catch (err) {
    if (err instanceof PayloadCodecError) throw new HttpError(422, err.message);
    throw err;
  }
}

function fromJson(payload: JsonPayload): Payload {
  const metadata = Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, fromBase64(v)]);
  return { metadata: Object.fromEntries(metadata), data: fromBase64(payload.data ?? '') };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  const metadata = Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, toBase64(v)]);
  return {
    metadata: Object.fromEntries(metadata),
    data: toBase64(payload.data ?? new Uint8Array()),
  };
}

function fromBase64(text: string): Buffer {
  return Buffer.from(text, 'base64');
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function answerError(res: ServerResponse, err: unknown, logger?: Logger): number {
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: err.message }, err.headers);
    return err.status;
  }
  logger?.error({ err }, 'codec request failed');
  sendJson(res, 500, { error: 'internal error; see the codec server log' });
  return 500;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** An origin as the browser sends it: scheme, host and port, nothing else. */
function checkOrigin(origin: string): string {
  let url: URL | undefined;
  try {
    url = new URL(origin);
  } catch {
    url = undefined;
  }
  if (!url || url.origin !== origin || !/^https?:$/.test(url.protocol)) {
    throw new ConfigError(
      `codec server allowed origin "${origin}" is not an origin like http://localhost:8233 ` +
        '(scheme, host and port only; no wildcard, path or trailing slash)',
    );
  }
  return origin;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections();
  });
}

/** What `stoq codec-server` passes in from its flags and stoq.cfg. */
export interface CodecServerCommandOptions {
  /** The validated `[codec]` section: the same keys the workers use. */
  codecConfig: CodecConfig;
  /** Where relative key file paths resolve from: the stoQ home. */
  baseDir?: string;
  port?: number;
  host?: string;
  /** Default: the dev server's UI, {@link DEFAULT_ALLOWED_ORIGINS}. */
  allowedOrigins?: string[];
  /** Default: `$STOQ_CODEC_AUTH_TOKEN`, else no token check. */
  authToken?: string;
  logger: Logger;
  /** Stops the server; default: SIGINT or SIGTERM. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** Runs the codec server until the signal (or SIGINT/SIGTERM), then closes it. */
export async function runCodecServerCommand(options: CodecServerCommandOptions): Promise<void> {
  const codec = codecFromConfig(options.codecConfig, { baseDir: options.baseDir });
  const authToken =
    options.authToken ?? ((options.env ?? process.env)[AUTH_TOKEN_ENV] || undefined);
  const host = options.host ?? '127.0.0.1';
  const allowedOrigins = options.allowedOrigins?.length
    ? options.allowedOrigins
    : DEFAULT_ALLOWED_ORIGINS;

  const server = await startCodecServer({
    port: options.port ?? DEFAULT_CODEC_SERVER_PORT,
    host,
    codec,
    allowedOrigins,
    authToken,
    logger: options.logger,
  });
  const fields = { url: server.url, allowedOrigins, auth: authToken ? 'bearer' : 'none' };
  options.logger.info(
    { ...fields, encryptionKeyId: codec.encryptionKeyId },
    'codec server listening',
  );
  if (!authToken && !isLoopback(host)) {
    options.logger.warn(
      { host },
      'codec server reachable beyond this machine without an auth token',
    );
  }

  await stopped(options.signal);
  await server.close();
  options.logger.info({ url: server.url }, 'codec server stopped');
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function stopped(signal?: AbortSignal): Promise<void> {
  if (signal) {
    return new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
