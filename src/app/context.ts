/**
 * What every entry point builds first: the stoQ home, the validated configuration, the
 * plugin registry, the blob store and the logger. Config mistakes surface here, before any
 * connection is opened or any work starts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openBlobStore } from '../blobstore';
import type { BlobStore } from '../blobstore/types';
import { loadStoqConfig, stoqHome, type StoqConfig } from '../config/stoq-config';
import { createLogger, type Logger } from '../log';
import { builtinPlugins } from '../plugins/builtin';
import { buildRegistry, type PluginRegistry } from '../plugins/registry';

/** The settings an entry point takes from its flags rather than from `stoq.cfg`. */
export interface AppFlags {
  configFile?: string;
  /** `--plugin-dir`, added after `plugin_dir_list`. */
  pluginDirs?: string[];
  logLevel?: StoqConfig['core']['log_level'];
  /** Defaults to `$STOQ_HOME` or `~/.stoq`. */
  home?: string;
}

export interface AppContext {
  home: string;
  config: StoqConfig;
  registry: PluginRegistry;
  blobStore: BlobStore;
  logger: Logger;
}

/** Where `stoq install` puts plugins; always searched when it exists. */
export function installedPluginDir(home: string): string {
  return join(home, 'plugins');
}

export function loadAppContext(flags: AppFlags = {}): AppContext {
  const home = flags.home ?? stoqHome();
  const config = loadStoqConfig({ home, configFile: flags.configFile });
  const logger = createLogger({ level: logLevel(flags, config) });

  const installed = installedPluginDir(home);
  const pluginDirs = [
    ...(existsSync(installed) ? [installed] : []),
    ...config.core.plugin_dir_list,
    ...(flags.pluginDirs ?? []),
  ];
  const registry = buildRegistry({ builtins: builtinPlugins, pluginDirs });

  return { home, config, registry, blobStore: openBlobStore(config.blobstore), logger };
}

function logLevel(flags: AppFlags, config: StoqConfig): StoqConfig['core']['log_level'] {
  const fromEnv = process.env.STOQ_LOG_LEVEL as StoqConfig['core']['log_level'] | undefined;
  return flags.logLevel ?? fromEnv ?? config.core.log_level;
}

/** Dispatch settings a scan starts with when nothing names any. */
export interface OutOfTheBoxDispatch {
  dispatchers: string[];
  always_dispatch: string[];
}

/**
 * The out-of-the-box dispatch: with no dispatcher, always-dispatch or start-dispatch named by
 * `stoq.cfg` or the flags, every payload is hashed and typed (`hash`, `mimetype`) and the
 * `filetype` dispatcher routes it (archives to `decompress`, executables to `peinfo`...).
 * Only plugins the registry holds are used, so a trimmed build still starts.
 */
export function outOfTheBoxDispatch(registry: PluginRegistry): OutOfTheBoxDispatch {
  const present = (names: string[]) => names.filter((name) => registry.has(name));
  return {
    dispatchers: present(['filetype']),
    always_dispatch: present(['hash', 'mimetype']),
  };
}

/** True when neither the config nor the given flag values name any dispatch at all. */
export function namesNoDispatch(
  config: StoqConfig,
  flags: { dispatchers?: string[]; always_dispatch?: string[]; start_dispatch?: string[] },
): boolean {
  const named = [
    config.core.dispatchers,
    config.core.always_dispatch,
    flags.dispatchers ?? [],
    flags.always_dispatch ?? [],
    flags.start_dispatch ?? [],
  ];
  return named.every((list) => list.length === 0);
}
