/**
 * Plugin instances inside a worker process. A plugin is created once per distinct set of
 * options and reused across scans, so expensive setup (compiling YARA rules, opening a
 * connection) is paid once, not per payload.
 */
import type { BlobStore } from '../blobstore/types';
import type { Logger } from '../log';
import type { PluginInstance, PluginKind } from './api';
import type { PluginRegistry } from './registry';

export interface PluginHostOptions {
  registry: PluginRegistry;
  blobStore: BlobStore;
  logger: Logger;
  stoqHome: string;
}

/** The plugin is not installed here, or its options or setup are wrong: retrying cannot help. */
export class PluginUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PluginUnavailableError';
  }
}

export class PluginHost {
  private readonly instances = new Map<string, Promise<PluginInstance>>();

  constructor(private readonly options: PluginHostOptions) {}

  /** The instance of `name` for these options, created on first use. */
  async instance(
    name: string,
    options: Record<string, unknown>,
    kind: PluginKind,
  ): Promise<PluginInstance> {
    const key = `${name}\0${stableJson(options)}`;
    let pending = this.instances.get(key);
    if (!pending) {
      pending = this.create(name, options);
      this.instances.set(key, pending);
      // A failed setup is not cached: a fixed rules file should work on the next scan.
      pending.catch(() => this.instances.delete(key));
    }

    const instance = await pending;
    if (!instance[kind]) {
      throw new PluginUnavailableError(`plugin "${name}" does not implement the ${kind} kind`);
    }
    return instance;
  }

  private async create(name: string, raw: Record<string, unknown>): Promise<PluginInstance> {
    const registered = this.options.registry.get(name);
    if (!registered) {
      throw new PluginUnavailableError(`plugin "${name}" is not installed on this worker`);
    }

    const parsed = registered.definition.options.safeParse(raw);
    if (!parsed.success) {
      const detail = parsed.error.issues.map(
        (issue) => `${issue.path.join('.')}: ${issue.message}`,
      );
      throw new PluginUnavailableError(
        `plugin "${name}" options are invalid: ${detail.join('; ')}`,
      );
    }

    try {
      return await registered.definition.create(parsed.data, {
        logger: this.options.logger.child({ plugin: name }),
        stoqHome: this.options.stoqHome,
        pluginDir: registered.directory,
        blobStore: this.options.blobStore,
      });
    } catch (error) {
      throw new PluginUnavailableError(
        `plugin "${name}" failed to start: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async close(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.allSettled(all.map(async (pending) => (await pending).close?.()));
  }
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}
