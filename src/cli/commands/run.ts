/**
 * `stoq run -P PROVIDER...`: the ingest loop. Providers feed scans until they are exhausted
 * or SIGINT/SIGTERM arrives; then intake stops, the starts under way finish, and (unless
 * `--no-wait`) the scans in flight are waited for.
 */
import { loadAppContext, type AppContext } from '../../app/context';
import { readResponse } from '../../client/submit';
import { ConfigError } from '../../config/errors';
import type { ProviderHooks } from '../../plugins/api';
import { PluginHost } from '../../plugins/host';
import type { ScanPlan } from '../../workflows/types';
import { InfraError, UsageError } from '../errors';
import { IngestLoop, type SourceArchiver } from '../ingest';
import { parseFlags, runFlagsSchema } from '../options';
import { printJson } from '../output';
import { planScan } from '../plan-flags';
import { describeProgress, startProgressLine } from '../progress';
import { openSession } from '../session';
import { appFlagsOf, untilStopSignal } from './common';

export async function runCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(runFlagsSchema, raw);
  const ctx = loadAppContext(appFlagsOf(flags));
  const planned = planScan(ctx, flags);
  const providerNames = checkPlugins(
    ctx,
    planned.plan,
    flags.providers ?? ctx.config.core.providers,
    'provider',
  );
  if (providerNames.length === 0) {
    throw new UsageError(
      'no provider: give -P NAME (a plugin of the provider kind; see `stoq list`)',
    );
  }
  checkPlugins(ctx, planned.plan, planned.sourceArchivers, 'archiver');
  const taskQueue = flags.taskQueue ?? ctx.config.temporal.task_queue;

  const session = await openSession(ctx, flags, {
    mayStartServer: true,
    worker: flags.localWorker ? 'always' : 'auto',
    taskQueue,
  });
  const host = new PluginHost({
    registry: ctx.registry,
    blobStore: ctx.blobStore,
    logger: ctx.logger,
    stoqHome: ctx.home,
  });
  try {
    const providers = await instances(host, planned.plan, providerNames, 'provider');
    const sourceArchivers = await instances(
      host,
      planned.plan,
      planned.sourceArchivers,
      'archiver',
    );
    const loop = new IngestLoop({
      client: session.client,
      blobStore: ctx.blobStore,
      taskQueue,
      plan: planned.plan,
      requestMeta: planned.requestMeta,
      sourceArchivers: sourceArchivers.map(
        ({ name, instance }) => ({ name, hooks: instance.archiver! }) as SourceArchiver,
      ),
      maxQueue: flags.maxQueue ?? ctx.config.core.max_queue,
      consumers: flags.providerConsumers ?? ctx.config.core.provider_consumers,
      logger: ctx.logger,
      // Without a connector, each response goes to stdout as one JSON line.
      onCompleted:
        planned.plan.connectors.length === 0
          ? async (scanId) => printJson(await readResponse(ctx.blobStore, scanId), 0)
          : undefined,
    });
    await ingest(
      ctx,
      loop,
      providers.map(({ name, instance }) => ({ name, hooks: instance.provider! })),
      flags.wait,
      session.workerFailure,
    );
  } finally {
    await host.close();
    await session.close();
  }
}

function checkPlugins(
  ctx: AppContext,
  plan: ScanPlan,
  names: string[],
  kind: 'provider' | 'archiver',
): string[] {
  const flag = kind === 'provider' ? '-P/--providers' : '-S/--source-archivers';
  for (const name of names) {
    const plugin = ctx.registry.get(name);
    if (!plugin) throw new ConfigError(`${flag}: unknown plugin "${name}"`);
    if (!plugin.definition.kinds.includes(kind)) {
      throw new ConfigError(
        `${flag}: plugin "${name}" is not a ${kind} (it is ${plugin.definition.kinds.join(', ')})`,
      );
    }
    const invalid = plan.plugins[name]?.invalid;
    if (invalid) throw new ConfigError(invalid);
  }
  return [...new Set(names)];
}

async function instances(
  host: PluginHost,
  plan: ScanPlan,
  names: string[],
  kind: 'provider' | 'archiver',
) {
  return Promise.all(
    names.map(async (name) => ({
      name,
      instance: await host.instance(name, plan.plugins[name].options, kind),
    })),
  );
}

async function ingest(
  ctx: AppContext,
  loop: IngestLoop,
  providers: { name: string; hooks: ProviderHooks }[],
  waitForScans: boolean,
  workerFailure: Promise<never>,
): Promise<void> {
  const intake = new AbortController();
  void untilStopSignal((signal) => {
    ctx.logger.info({ signal }, 'stopping intake; waiting for the starts under way');
    intake.abort();
  });
  const progress = startProgressLine(loop.stats);

  const outcomes = await Promise.race([
    Promise.allSettled(providers.map((provider) => provider.hooks.ingest(loop, intake.signal))),
    workerFailure,
  ]);
  await Promise.race([loop.drain(waitForScans), workerFailure]);
  progress.stop();

  ctx.logger.info({ ...loop.stats, startedAt: undefined }, 'ingest finished');
  if (!process.stderr.isTTY) process.stderr.write(`${describeProgress(loop.stats)}\n`);
  const failedProviders = outcomes.flatMap((outcome, i) =>
    outcome.status === 'rejected'
      ? [`${providers[i].name}: ${(outcome.reason as Error).message}`]
      : [],
  );
  // TODO(cli): a provider failing on a bad option (filedir without source_dir) exits 1, not 2:
  // plugin errors carry no config/infra distinction yet.
  if (failedProviders.length > 0)
    throw new InfraError(`provider failed: ${failedProviders.join('; ')}`);
  if (loop.stats.failed > 0)
    throw new InfraError(`${loop.stats.failed} of ${loop.stats.submitted} scans did not complete`);
}
