/**
 * From the scan flags (`-s -a -R -A -S -D -C --max-recursion --plugin-opts --request-*`) to
 * the scan plan and request meta a submission carries.
 */
import { namesNoDispatch, outOfTheBoxDispatch, type AppContext } from '../app/context';
import { ConfigError } from '../config/errors';
import type { RequestMeta } from '../model/schemas';
import { resolveScanPlan, type PlanOverrides } from '../scan/plan';
import type { ScanPlan } from '../workflows/types';
import { keyValuesFrom, pluginOptsFrom, type PlanFlags } from './options';

export interface PlannedScan {
  plan: ScanPlan;
  requestMeta: Partial<RequestMeta>;
  /** `-S`: source archivers, checked to exist and to be archivers. */
  sourceArchivers: string[];
}

export function overridesFrom(ctx: AppContext, flags: PlanFlags): PlanOverrides {
  const overrides: PlanOverrides = {
    start_dispatch: flags.startDispatch,
    always_dispatch: flags.alwaysDispatch,
    dispatchers: flags.dispatchers,
    dest_archivers: flags.destArchivers,
    decorators: flags.decorators,
    connectors: flags.connectors,
    max_recursion: flags.maxRecursion,
    plugin_opts: pluginOptsFrom(flags.pluginOpts),
  };

  const lists = {
    dispatchers: flags.dispatchers,
    always_dispatch: flags.alwaysDispatch,
    start_dispatch: flags.startDispatch,
  };
  if (namesNoDispatch(ctx.config, lists)) {
    const defaults = outOfTheBoxDispatch(ctx.registry);
    overrides.dispatchers = defaults.dispatchers;
    overrides.always_dispatch = defaults.always_dispatch;
  }
  return overrides;
}

export function planScan(ctx: AppContext, flags: PlanFlags): PlannedScan {
  const plan = resolveScanPlan(ctx.config, ctx.registry, overridesFrom(ctx, flags));
  const sourceArchivers = checkSourceArchivers(
    ctx,
    flags.sourceArchivers ?? ctx.config.core.source_archivers,
  );

  const requestMeta: Partial<RequestMeta> = {};
  if (flags.requestSource !== undefined) requestMeta.source = flags.requestSource;
  const extra = keyValuesFrom('--request-extra', flags.requestExtra);
  if (Object.keys(extra).length > 0) requestMeta.extra_data = extra;

  return { plan, requestMeta, sourceArchivers };
}

function checkSourceArchivers(ctx: AppContext, names: string[]): string[] {
  for (const name of names) {
    const plugin = ctx.registry.get(name);
    if (!plugin) throw new ConfigError(`source_archivers: unknown plugin "${name}"`);
    if (!plugin.definition.kinds.includes('archiver')) {
      throw new ConfigError(
        `source_archivers: plugin "${name}" is not an archiver (it is ${plugin.definition.kinds.join(', ')})`,
      );
    }
  }
  return [...new Set(names)];
}
