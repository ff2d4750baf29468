/**
 * `stoq install PATH|PACKAGE [--upgrade]`: copies a plugin into `<home>/plugins/<name>`.
 *
 * PATH is a plugin directory (it holds `stoq-plugin.json`). PACKAGE is an npm package whose
 * root holds the manifest; it is installed with `npm install` into a scratch prefix and
 * copied with its dependencies. The plugin is loaded once before it is copied, so a broken
 * plugin is refused instead of breaking every later command.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { installedPluginDir, loadAppContext } from '../../app/context';
import { loadPluginFromDir, MANIFEST_FILE } from '../../plugins/registry';
import { InfraError, UsageError } from '../errors';
import { installFlagsSchema, parseFlags } from '../options';
import { printLine } from '../output';
import { appFlagsOf } from './common';

const NPM_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(@[\w.^~<>=*-]+)?$/i;

export async function installCommand(target: string, raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(installFlagsSchema, raw);
  const ctx = loadAppContext(appFlagsOf(flags));
  const pluginsDir = installedPluginDir(ctx.home);

  const installed = looksLikePath(target)
    ? installFromDir(resolve(target), pluginsDir, flags.upgrade === true)
    : await installFromNpm(target, pluginsDir, flags.upgrade === true);
  ctx.logger.info({ plugin: installed.name, directory: installed.directory }, 'plugin installed');
  await printLine(`installed ${installed.name} ${installed.version} into ${installed.directory}`);
}

function looksLikePath(target: string): boolean {
  return (
    /^(\.{1,2}|~)?[/\\]/.test(target) ||
    target === '.' ||
    target === '..' ||
    existsSync(target) ||
    !NPM_NAME.test(target)
  );
}

interface Installed {
  name: string;
  version: string;
  directory: string;
}

function installFromDir(
  source: string,
  pluginsDir: string,
  upgrade: boolean,
  dependencies?: string,
): Installed {
  if (!existsSync(source)) throw new UsageError(`no such plugin directory: ${source}`);
  if (!statSync(source).isDirectory()) throw new UsageError(`not a directory: ${source}`);
  if (!existsSync(join(source, MANIFEST_FILE))) {
    throw new UsageError(`${source} is not a plugin directory: it has no ${MANIFEST_FILE}`);
  }
  const { definition } = loadPluginFromDir(source);
  const target = join(pluginsDir, definition.name);
  if (existsSync(target) && !upgrade) {
    throw new UsageError(
      `plugin "${definition.name}" is already installed at ${target} (use --upgrade to replace it)`,
    );
  }

  // Copy beside the target and swap, so a failed copy never leaves half a plugin installed.
  mkdirSync(pluginsDir, { recursive: true });
  const staging = mkdtempSync(join(pluginsDir, `.${definition.name}-`));
  try {
    cpSync(source, staging, { recursive: true, verbatimSymlinks: true });
    if (dependencies)
      cpSync(dependencies, join(staging, 'node_modules'), {
        recursive: true,
        verbatimSymlinks: true,
      });
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { name: definition.name, version: definition.version, directory: target };
}

async function installFromNpm(
  spec: string,
  pluginsDir: string,
  upgrade: boolean,
): Promise<Installed> {
  const prefix = mkdtempSync(join(tmpdir(), 'stoq-install-'));
  try {
    await promisify(execFile)(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', spec],
      {
        timeout: 300_000,
      },
    ).catch((error: Error & { stderr?: string }) => {
      const detail = (error.stderr ?? error.message).trim().split('\n').pop();
      throw new InfraError(`npm install ${spec} failed: ${detail}`, { cause: error });
    });

    const modules = join(prefix, 'node_modules');
    const packageName = spec.startsWith('@')
      ? spec.split('@').slice(0, 2).join('@')
      : spec.split('@')[0];
    const packageDir = join(modules, packageName);
    if (!existsSync(join(packageDir, MANIFEST_FILE))) {
      throw new UsageError(
        `npm package ${packageName} is not a stoQ plugin: it has no ${MANIFEST_FILE}`,
      );
    }

    // Its dependencies travel with it, so the plugin's requires resolve from its own folder.
    const dependencies = join(prefix, 'dependencies');
    mkdirSync(dependencies);
    for (const entry of readdirSync(modules)) {
      if (entry !== packageName.split('/')[0] && !entry.startsWith('.'))
        renameSync(join(modules, entry), join(dependencies, entry));
    }
    return installFromDir(packageDir, pluginsDir, upgrade, dependencies);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}
