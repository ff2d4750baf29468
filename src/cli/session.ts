/**
 * A command's hold on Temporal: the server (configured, or the local default), a client,
 * and, when the scans must run here, an in-process stoQ worker. `close()` undoes all of it in
 * reverse order.
 */
import { existsSync } from 'node:fs';
import { Client, type Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { AppContext } from '../app/context';
import { Runtime } from '@temporalio/worker';
import type { Logger } from '../log';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFor } from '../temporal/codec';
import { sdkLoggerFor } from '../temporal/sdk-logging';
import { createStoqWorker, defaultWorkflowBundlePath, type StoqWorker } from '../temporal/worker';
import {
  connectClient,
  connectWorker,
  describeSettings,
  resolveTemporalSettings,
  type TemporalSettings,
} from './connection';
import { InfraError } from './errors';
import { LOCAL_HOST, localPort, localServerForScan, probePort } from './local-server';
import type { ConnectionFlags } from './options';

export interface SessionOptions {
  /** May this command start a local dev server when none is configured or listening? */
  mayStartServer: boolean;
  /** Run an in-process worker: 'auto' = only on the local default server. */
  worker: 'auto' | 'always' | 'never';
  taskQueue: string;
}

/** For commands that only talk to a server: none is started, no worker runs. */
export const CLIENT_ONLY: SessionOptions = {
  mayStartServer: false,
  worker: 'never',
  taskQueue: '',
};

/**
 * For commands that submit a scan (`scan`, `retry`): a detached submission never starts a
 * server or a worker; otherwise the embedded default applies, or `--local-worker` forces one.
 */
export function submitterOptions(
  flags: { detach?: boolean; localWorker?: boolean },
  taskQueue: string,
): SessionOptions {
  return {
    mayStartServer: !flags.detach,
    worker: flags.detach ? 'never' : flags.localWorker ? 'always' : 'auto',
    taskQueue,
  };
}

export interface Session {
  client: Client;
  connection: Connection;
  address: string;
  settings: TemporalSettings;
  /** True when the server is the local default rather than a configured one. */
  local: boolean;
  /** Rejects if the in-process worker stops with an error; never resolves otherwise. */
  workerFailure: Promise<never>;
  hasWorker: boolean;
  close(): Promise<void>;
}

export async function openSession(
  ctx: AppContext,
  flags: ConnectionFlags,
  options: SessionOptions,
): Promise<Session> {
  const settings = resolveTemporalSettings(ctx.config, flags);
  ctx.logger.debug({ temporal: describeSettings(settings) }, 'temporal settings');
  // Read before connecting: a bad key file is a config mistake, whatever the server does.
  const dataConverter = dataConverterFor(ctx.config.codec, { baseDir: ctx.home });
  const cleanup: (() => Promise<void>)[] = [];

  try {
    const server = await serverFor(ctx, settings, options);
    cleanup.push(server.stop);
    const connection = await connectClient(settings, server.address);
    cleanup.push(() => connection.close());

    const wantsWorker = options.worker === 'always' || (options.worker === 'auto' && server.local);
    const worker = wantsWorker
      ? await startWorker(ctx, settings, server.address, options.taskQueue, dataConverter)
      : undefined;
    if (worker) cleanup.push(worker.stop);

    return {
      client: new Client({ connection, namespace: settings.namespace, dataConverter }),
      connection,
      address: server.address,
      settings,
      local: server.local,
      workerFailure: worker?.failure ?? new Promise<never>(() => {}),
      hasWorker: worker !== undefined,
      close: () => runCleanup(cleanup),
    };
  } catch (error) {
    await runCleanup(cleanup);
    throw error;
  }
}

async function runCleanup(steps: (() => Promise<void>)[]): Promise<void> {
  for (const step of steps.reverse()) await step().catch(() => undefined);
}

interface ServerHold {
  address: string;
  local: boolean;
  stop(): Promise<void>;
}

async function serverFor(
  ctx: AppContext,
  settings: TemporalSettings,
  options: SessionOptions,
): Promise<ServerHold> {
  if (settings.address) return { address: settings.address, local: false, stop: async () => {} };

  if (!options.mayStartServer) {
    const port = localPort();
    if ((await probePort(LOCAL_HOST, port, settings.namespace)) === 'temporal') {
      return { address: `${LOCAL_HOST}:${port}`, local: true, stop: async () => {} };
    }
    throw new InfraError(
      `no Temporal server is configured and none answers on ${LOCAL_HOST}:${port} (start \`stoq server\`, or give --address)`,
    );
  }

  const local = await localServerForScan({
    home: ctx.home,
    namespace: settings.namespace,
    retentionDays: ctx.config.temporal.history_retention_days,
    logger: ctx.logger,
  });
  return { address: local.address, local: true, stop: local.stop };
}

async function startWorker(
  ctx: AppContext,
  settings: TemporalSettings,
  address: string,
  taskQueue: string,
  dataConverter: DataConverter,
) {
  // The SDK's worker lifecycle lines are noise around a one-off scan; keep its warnings.
  const quiet = ['debug', 'trace'].includes(ctx.logger.level)
    ? ctx.logger
    : ctx.logger.child({}, { level: 'warn' });
  // The CLI decides what SIGINT/SIGTERM mean (stop intake, let in-flight scans finish); the
  // SDK's default would shut the worker down at once and strand those scans.
  installRuntime(quiet);
  const bundle = defaultWorkflowBundlePath();
  if (!existsSync(bundle)) {
    ctx.logger.warn(
      { bundle },
      'prebuilt workflow bundle not found, bundling at start (slow); run `npm run build`',
    );
  }

  const nativeConnection: NativeConnection = await connectWorker(settings, address);
  let worker: StoqWorker;
  try {
    worker = await createStoqWorker({
      connection: nativeConnection,
      namespace: settings.namespace,
      taskQueue,
      registry: ctx.registry,
      blobStore: ctx.blobStore,
      logger: ctx.logger,
      stoqHome: ctx.home,
      dataConverter,
    });
  } catch (error) {
    await nativeConnection.close();
    throw error;
  }

  const running = worker.run();
  const failure = running.then(
    () => new Promise<never>(() => {}),
    (error: unknown) => {
      throw new InfraError(`the in-process worker stopped: ${(error as Error).message}`, {
        cause: error,
      });
    },
  );
  // The rejection is observed by whoever races it; keep Node from reporting it as unhandled.
  failure.catch(() => undefined);

  return {
    failure,
    stop: async () => {
      worker.shutdown();
      await running.catch(() => undefined);
      await nativeConnection.close();
    },
  };
}

/** Like installSdkLogging, but leaving signal handling to the command. */
function installRuntime(logger: Logger): void {
  try {
    Runtime.install({ logger: sdkLoggerFor(logger), shutdownSignals: [] });
  } catch (error) {
    if ((error as Error).name !== 'IllegalStateError') throw error;
  }
}
