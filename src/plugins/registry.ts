/**
 * Finds plugins: the built-in set plus every plugin directory on `plugin_dir_list`.
 *
 * A plugin directory holds a manifest, `stoq-plugin.json`:
 *
 * ```json
 * { "name": "mywidget", "module": "index.js", "options": { "threshold": 5 } }
 * ```
 *
 * `module` (default `index.js`) must export exactly one plugin made with `definePlugin`,
 * whose name matches the manifest's. `options` are defaults that `stoq.cfg` and
 * `--plugin-opts` override. A list entry may be a plugin directory itself or a directory
 * of plugin directories.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { describeZodIssues } from '../config/errors';
import { isPluginDefinition, type PluginDefinition, type PluginKind } from './api';

export const MANIFEST_FILE = 'stoq-plugin.json';

const manifestSchema = z
  .object({
    name: z.string().min(1),
    module: z.string().min(1).default('index.js'),
    description: z.string().optional(),
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type PluginManifest = z.infer<typeof manifestSchema>;

/** A plugin that could not be loaded: names the path and the reason. */
export class PluginLoadError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot load plugin at ${path}: ${reason}`);
    this.name = 'PluginLoadError';
  }
}

export interface RegisteredPlugin {
  definition: PluginDefinition;
  /** Manifest options (defaults below stoq.cfg and --plugin-opts). */
  manifestOptions: Record<string, unknown>;
  /** Directory the plugin was found in; undefined for built-ins. */
  directory?: string;
  builtin: boolean;
}

export class PluginRegistry {
  private readonly plugins = new Map<string, RegisteredPlugin>();

  /** Adds a plugin; a later registration of the same name replaces the earlier one. */
  register(plugin: RegisteredPlugin): void {
    this.plugins.set(plugin.definition.name, plugin);
  }

  get(name: string): RegisteredPlugin | undefined {
    return this.plugins.get(name);
  }

  has(name: string): boolean {
    return this.plugins.has(name);
  }

  list(): RegisteredPlugin[] {
    return [...this.plugins.values()].sort((a, b) =>
      a.definition.name.localeCompare(b.definition.name),
    );
  }

  withKind(kind: PluginKind): RegisteredPlugin[] {
    return this.list().filter((plugin) => plugin.definition.kinds.includes(kind));
  }
}

export interface RegistryOptions {
  builtins?: PluginDefinition[];
  pluginDirs?: string[];
  /** Extra definitions registered in code (tests, embedding applications). */
  extra?: PluginDefinition[];
}

/** Builds the registry: built-ins first, then plugin directories (which may override). */
export function buildRegistry(options: RegistryOptions): PluginRegistry {
  const registry = new PluginRegistry();
  for (const definition of options.builtins ?? []) {
    registry.register({ definition, manifestOptions: {}, builtin: true });
  }
  for (const dir of options.pluginDirs ?? []) {
    for (const plugin of discoverPluginDir(dir)) registry.register(plugin);
  }
  for (const definition of options.extra ?? []) {
    registry.register({ definition, manifestOptions: {}, builtin: false });
  }
  return registry;
}

/** Plugins under one `plugin_dir_list` entry. */
export function discoverPluginDir(dir: string): RegisteredPlugin[] {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new PluginLoadError(root, 'plugin directory does not exist');
  }
  if (existsSync(join(root, MANIFEST_FILE))) return [loadPluginFromDir(root)];

  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, MANIFEST_FILE)))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((entry) => loadPluginFromDir(join(root, entry.name)));
}

export function loadPluginFromDir(dir: string): RegisteredPlugin {
  const manifest = readManifest(dir);
  const modulePath = resolve(dir, manifest.module);
  if (!modulePath.startsWith(resolve(dir))) {
    throw new PluginLoadError(dir, `module "${manifest.module}" is outside the plugin directory`);
  }
  if (!existsSync(modulePath)) {
    throw new PluginLoadError(dir, `module "${manifest.module}" not found (${modulePath})`);
  }

  const definition = singleDefinition(dir, requireModule(dir, modulePath));
  if (definition.name !== manifest.name) {
    throw new PluginLoadError(
      dir,
      `manifest names "${manifest.name}" but the module defines "${definition.name}"`,
    );
  }
  return { definition, manifestOptions: manifest.options, directory: dir, builtin: false };
}

function readManifest(dir: string): PluginManifest {
  const path = join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PluginLoadError(
      dir,
      `invalid manifest ${MANIFEST_FILE}: ${(error as Error).message}`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PluginLoadError(
      dir,
      describeZodIssues(`invalid manifest ${MANIFEST_FILE}`, parsed.error, raw),
    );
  }
  return parsed.data;
}

function requireModule(dir: string, modulePath: string): Record<string, unknown> {
  try {
    // Plugins are CommonJS (or transpiled to it); require keeps loading synchronous.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(modulePath) as Record<string, unknown>;
  } catch (error) {
    throw new PluginLoadError(dir, `module failed to load: ${(error as Error).message}`);
  }
}

function singleDefinition(dir: string, exports: Record<string, unknown>): PluginDefinition {
  const found = new Set<PluginDefinition>();
  for (const value of [exports, ...Object.values(exports ?? {})]) {
    if (isPluginDefinition(value)) found.add(value);
  }
  if (found.size === 0) {
    throw new PluginLoadError(dir, 'module defines no plugin (export one made with definePlugin)');
  }
  if (found.size > 1) {
    const names = [...found].map((plugin) => plugin.name).join(', ');
    throw new PluginLoadError(dir, `module defines several plugins (${names}); export exactly one`);
  }
  return [...found][0];
}
