/**
 * Resolves configuration into a {@link ScanPlan} once, on the client, before any work
 * starts. The plan travels in the scan workflow's input, so a replay sees exactly the
 * configuration the scan ran with.
 *
 * Plugins named by configuration must exist and validate (a mistake there is a config
 * error). Every other known plugin is resolved too, because dispatchers and workers can
 * ask for any plugin by name at scan time; one whose options do not validate is marked
 * invalid, and asking for it becomes an error entry in the response.
 */
import { ConfigError } from '../config/errors';
import { resolvePluginOptions, type OptionLayer } from '../config/plugin-options';
import type { StoqConfig } from '../config/stoq-config';
import type { PluginKind } from '../plugins/api';
import type { PluginRegistry, RegisteredPlugin } from '../plugins/registry';
import type { PluginPlan, ScanPlan } from '../workflows/types';

export interface PlanOverrides {
  start_dispatch?: string[];
  always_dispatch?: string[];
  dispatchers?: string[];
  dest_archivers?: string[];
  decorators?: string[];
  connectors?: string[];
  max_recursion?: number;
  /** `--plugin-opts`: raw values by plugin name, then key. */
  plugin_opts?: Record<string, Record<string, unknown>>;
}

const LISTS: { key: keyof ScanPlan & keyof PlanOverrides; kind: PluginKind; configKey?: string }[] =
  [
    { key: 'start_dispatch', kind: 'worker' },
    { key: 'always_dispatch', kind: 'worker', configKey: 'always_dispatch' },
    { key: 'dispatchers', kind: 'dispatcher', configKey: 'dispatchers' },
    { key: 'dest_archivers', kind: 'archiver', configKey: 'dest_archivers' },
    { key: 'decorators', kind: 'decorator', configKey: 'decorators' },
    { key: 'connectors', kind: 'connector', configKey: 'connectors' },
  ];

export function resolveScanPlan(
  config: StoqConfig,
  registry: PluginRegistry,
  overrides: PlanOverrides = {},
): ScanPlan {
  const lists = resolveLists(config, registry, overrides);
  const named = new Set(Object.values(lists).flat());
  checkOptionTargets(config, registry, overrides);

  const plugins: Record<string, PluginPlan> = {};
  for (const plugin of registry.list()) {
    const name = plugin.definition.name;
    const explicit =
      named.has(name) || name in config.pluginSections || name in (overrides.plugin_opts ?? {});
    plugins[name] = planPlugin(plugin, optionLayers(plugin, config, overrides), explicit);
  }

  return {
    ...lists,
    max_recursion: overrides.max_recursion ?? config.core.max_recursion,
    max_required_worker_depth: config.core.max_required_worker_depth,
    plugins,
  } as ScanPlan;
}

function resolveLists(config: StoqConfig, registry: PluginRegistry, overrides: PlanOverrides) {
  const lists: Record<string, string[]> = {};
  for (const { key, kind, configKey } of LISTS) {
    const fromConfig = configKey
      ? (config.core[configKey as keyof typeof config.core] as string[])
      : [];
    const names = [...new Set((overrides[key] as string[] | undefined) ?? fromConfig)];
    for (const name of names) {
      const plugin = registry.get(name);
      if (!plugin)
        throw new ConfigError(`${key}: unknown plugin "${name}"${suggestion(registry, name)}`);
      if (!plugin.definition.kinds.includes(kind)) {
        throw new ConfigError(
          `${key}: plugin "${name}" is not a ${kind} (it is ${plugin.definition.kinds.join(', ')})`,
        );
      }
    }
    lists[key] = names;
  }
  return lists;
}

function checkOptionTargets(
  config: StoqConfig,
  registry: PluginRegistry,
  overrides: PlanOverrides,
): void {
  for (const name of Object.keys(config.pluginSections)) {
    if (!registry.has(name)) {
      throw new ConfigError(
        `${config.source ?? 'stoq.cfg'} [${name}]: no plugin named "${name}"${suggestion(registry, name)}`,
      );
    }
  }
  for (const name of Object.keys(overrides.plugin_opts ?? {})) {
    if (!registry.has(name)) {
      throw new ConfigError(
        `--plugin-opts: no plugin named "${name}"${suggestion(registry, name)}`,
      );
    }
  }
}

function optionLayers(
  plugin: RegisteredPlugin,
  config: StoqConfig,
  overrides: PlanOverrides,
): OptionLayer[] {
  const name = plugin.definition.name;
  return [
    { label: `manifest of ${name}`, values: plugin.manifestOptions },
    {
      label: `${config.source ?? 'stoq.cfg'} [${name}]`,
      values: config.pluginSections[name] ?? {},
    },
    { label: '--plugin-opts', values: overrides.plugin_opts?.[name] ?? {} },
  ];
}

function planPlugin(
  plugin: RegisteredPlugin,
  layers: OptionLayer[],
  explicit: boolean,
): PluginPlan {
  const { definition } = plugin;
  const base = { name: definition.name, kinds: [...definition.kinds] };
  try {
    const resolved = resolvePluginOptions(definition, layers);
    const activity = resolved.activity;
    return {
      ...base,
      requiredWorkers: resolved.requiredWorkers,
      options: resolved.options,
      activity: {
        retryMaxAttempts: activity.retry_max_attempts,
        retryInitialIntervalMs: activity.retry_initial_interval * 1000,
        retryBackoff: activity.retry_backoff,
        retryMaxIntervalMs: activity.retry_max_interval * 1000,
        startToCloseTimeoutMs: activity.start_to_close_timeout * 1000,
        heartbeatTimeoutMs: activity.heartbeat_timeout * 1000,
      },
    };
  } catch (error) {
    if (explicit || !(error instanceof ConfigError)) throw error;
    return {
      ...base,
      requiredWorkers: [...(definition.requiredWorkers ?? [])],
      options: {},
      activity: {
        retryMaxAttempts: 1,
        retryInitialIntervalMs: 1000,
        retryBackoff: 2,
        retryMaxIntervalMs: 1000,
        startToCloseTimeoutMs: 60000,
        heartbeatTimeoutMs: 60000,
      },
      invalid: error.message,
    };
  }
}

function suggestion(registry: PluginRegistry, name: string): string {
  const close = registry
    .list()
    .map((plugin) => plugin.definition.name)
    .filter((known) => known.startsWith(name.slice(0, 3)) || name.startsWith(known.slice(0, 3)));
  return close.length > 0 ? ` (known: ${close.slice(0, 5).join(', ')})` : '';
}
