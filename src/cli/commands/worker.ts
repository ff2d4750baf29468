/** `stoq worker`: a long-running Temporal worker with the configured plugins. */
import { loadAppContext } from '../../app/context';
import { dataConverterFor } from '../../temporal/codec';
import { installSdkLogging } from '../../temporal/sdk-logging';
import { createStoqWorker } from '../../temporal/worker';
import { connectWorker, resolveTemporalSettings } from '../connection';
import { InfraError } from '../errors';
import { LOCAL_HOST, localPort, probePort } from '../local-server';
import { parseFlags, workerFlagsSchema } from '../options';
import { appFlagsOf, untilStopSignal } from './common';

export async function workerCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(workerFlagsSchema, raw);
  const ctx = loadAppContext(appFlagsOf(flags));
  const settings = resolveTemporalSettings(ctx.config, flags);
  const address = settings.address ?? (await localAddress(settings.namespace));
  const taskQueue = flags.taskQueue ?? ctx.config.temporal.task_queue;
  const dataConverter = dataConverterFor(ctx.config.codec, { baseDir: ctx.home });

  installSdkLogging(ctx.logger);
  const connection = await connectWorker(settings, address);
  try {
    const worker = await createStoqWorker({
      connection,
      namespace: settings.namespace,
      taskQueue,
      registry: ctx.registry,
      blobStore: ctx.blobStore,
      logger: ctx.logger,
      stoqHome: ctx.home,
      maxConcurrentActivityTaskExecutions: flags.maxConcurrentActivities,
      maxConcurrentWorkflowTaskExecutions: flags.maxConcurrentWorkflows,
      dataConverter,
    });
    void untilStopSignal((signal) => {
      ctx.logger.info({ signal }, 'worker shutting down; finishing the tasks under way');
      worker.shutdown();
    });
    ctx.logger.info(
      { address, namespace: settings.namespace, taskQueue, plugins: ctx.registry.list().length },
      'worker running',
    );
    await worker.run();
  } finally {
    await connection.close();
  }
}

async function localAddress(namespace: string): Promise<string> {
  const port = localPort();
  if ((await probePort(LOCAL_HOST, port, namespace)) === 'temporal') return `${LOCAL_HOST}:${port}`;
  throw new InfraError(
    `no Temporal server is configured and none answers on ${LOCAL_HOST}:${port} (start \`stoq server\`, or give --address)`,
  );
}
