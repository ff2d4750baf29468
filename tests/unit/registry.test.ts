import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRegistry, discoverPluginDir, PluginLoadError } from '../../src/plugins/registry';

const API = require.resolve('../../src/plugins/api');

function pluginSource(name: string, extra = ''): string {
  return `
const { z, definePlugin } = require(${JSON.stringify(API)});
module.exports = definePlugin({
  name: ${JSON.stringify(name)}, version: '2.0.0', description: 'from a directory', kinds: ['worker'],
  options: z.object({ level: z.number().default(1) }),
  create: () => ({ worker: { scan: async () => ({ results: {} }) } }),
});
${extra}`;
}

function makePlugin(root: string, dir: string, manifest: unknown, source?: string): string {
  const path = join(root, dir);
  mkdirSync(path, { recursive: true });
  writeFileSync(
    join(path, 'stoq-plugin.json'),
    typeof manifest === 'string' ? manifest : JSON.stringify(manifest),
  );
  if (source !== undefined) writeFileSync(join(path, 'index.js'), source);
  return path;
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stoq-plugins-'));
});

test('plugins are discovered from a directory of plugin directories with manifest options', () => {
  makePlugin(root, 'alpha', { name: 'alpha', options: { level: 3 } }, pluginSource('alpha'));
  makePlugin(root, 'beta', { name: 'beta' }, pluginSource('beta'));
  mkdirSync(join(root, 'not-a-plugin'));

  const found = discoverPluginDir(root);
  expect(found.map((p) => p.definition.name)).toEqual(['alpha', 'beta']);
  expect(found[0].manifestOptions).toEqual({ level: 3 });
  expect(found[0].definition.version).toBe('2.0.0');
});

test('a list entry may be a plugin directory itself; directory plugins override built-ins', () => {
  const dir = makePlugin(root, 'hash', { name: 'hash' }, pluginSource('hash'));
  const registry = buildRegistry({ pluginDirs: [dir] });
  expect(registry.get('hash')?.builtin).toBe(false);
  expect(registry.get('hash')?.directory).toBe(dir);
});

test('a missing plugin directory is an error naming it', () => {
  expect(() => discoverPluginDir(join(root, 'absent'))).toThrow(
    /absent: plugin directory does not exist/,
  );
});

test('a missing module is an error naming the module path', () => {
  makePlugin(root, 'ghost', { name: 'ghost', module: 'main.js' });
  expect(() => discoverPluginDir(root)).toThrow(PluginLoadError);
  expect(() => discoverPluginDir(root)).toThrow(/module "main.js" not found/);
});

test('an invalid manifest is an error naming the field', () => {
  makePlugin(root, 'bad', { module: 'index.js', colour: 'red' }, pluginSource('bad'));
  expect(() => discoverPluginDir(root)).toThrow(/invalid manifest stoq-plugin.json.*name/s);
});

test('a manifest that is not JSON is an error', () => {
  makePlugin(root, 'broken', '{ name: ', pluginSource('broken'));
  expect(() => discoverPluginDir(root)).toThrow(/invalid manifest stoq-plugin.json/);
});

test('a module that defines no plugin is an error', () => {
  makePlugin(root, 'empty', { name: 'empty' }, 'module.exports = { answer: 42 };');
  expect(() => discoverPluginDir(root)).toThrow(/defines no plugin/);
});

test('a module that defines several plugins is an error naming them', () => {
  const source = pluginSource(
    'one',
    `module.exports = { one: module.exports, two: require(${JSON.stringify(API)}).definePlugin({
    name: 'two', version: '1', description: '', kinds: ['worker'], options: require(${JSON.stringify(API)}).z.object({}), create: () => ({}) }) };`,
  );
  makePlugin(root, 'one', { name: 'one' }, source);
  expect(() => discoverPluginDir(root)).toThrow(/defines several plugins \(one, two\)/);
});

test('a module that throws while loading is an error with its message', () => {
  makePlugin(root, 'thrower', { name: 'thrower' }, 'throw new Error("no native lib");');
  expect(() => discoverPluginDir(root)).toThrow(/module failed to load: no native lib/);
});

test('a manifest name that differs from the module plugin name is an error', () => {
  makePlugin(root, 'mismatch', { name: 'mismatch' }, pluginSource('other'));
  expect(() => discoverPluginDir(root)).toThrow(
    /manifest names "mismatch" but the module defines "other"/,
  );
});
