import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../src/config/errors';
import { resolvePluginOptions } from '../../src/config/plugin-options';
import { loadStoqConfig, parseStoqConfig, stoqHome } from '../../src/config/stoq-config';
import { definePlugin } from '../../src/plugins/api';
import { buildRegistry } from '../../src/plugins/registry';
import { resolveScanPlan } from '../../src/scan/plan';

const widget = definePlugin({
  name: 'widget',
  version: '1.0.0',
  description: 'fixture',
  kinds: ['worker'],
  options: z.object({
    threshold: z.number().int().min(0).default(1),
    label: z.string().default('schema'),
    enabled: z.boolean().default(true),
    tags: z.array(z.string()).default([]),
  }),
  create: () => ({ worker: { scan: async () => ({}) } }),
});

function parse(text: string) {
  return parseStoqConfig(text, { home: '/tmp/stoq-home', source: 'stoq.cfg' });
}

describe('stoq.cfg', () => {
  test('core keys keep stoQ names and defaults; lists are comma separated', () => {
    const config = parse(
      '[core]\nmax_recursion = 7\ndispatchers = yara, filetype\nalways_dispatch = hash\n',
    );

    expect(config.core.max_recursion).toBe(7);
    expect(config.core.dispatchers).toEqual(['yara', 'filetype']);
    expect(config.core.always_dispatch).toEqual(['hash']);
    expect(config.core.max_required_worker_depth).toBe(10);
    expect(config.temporal).toMatchObject({
      namespace: 'default',
      task_queue: 'stoq',
      history_retention_days: 30,
    });
    expect(config.blobstore).toEqual({ kind: 'filesystem', root: '/tmp/stoq-home/blobs' });
  });

  test('a bad value names the file, section, key, value and what was expected', () => {
    expect(() => parse('[core]\nmax_recursion = ten\n')).toThrow(ConfigError);
    expect(() => parse('[core]\nmax_recursion = ten\n')).toThrow(
      /^stoq\.cfg \[core\] max_recursion: .*number.*got "ten"/,
    );
    expect(() => parse('[core]\nlog_level = loud\n')).toThrow(/\[core\] log_level: .*got "loud"/);
  });

  test('an unknown core key is an error naming it (typos do not pass silently)', () => {
    expect(() => parse('[core]\nmax_recursions = 3\n')).toThrow(/\[core\].*max_recursions/);
  });

  test('plugin sections are kept raw for the option resolver', () => {
    expect(parse('[widget]\nthreshold = 5\n').pluginSections).toEqual({
      widget: { threshold: '5' },
    });
  });

  test('STOQ_HOME sets the home; an explicit missing config file is an error', () => {
    expect(stoqHome({ STOQ_HOME: '/srv/stoq' })).toBe('/srv/stoq');
    expect(stoqHome({})).toMatch(/\.stoq$/);
    expect(() => loadStoqConfig({ home: '/tmp', configFile: '/nonexistent/stoq.cfg' })).toThrow(
      'config file /nonexistent/stoq.cfg does not exist',
    );
  });

  test('the home stoq.cfg is read when present', () => {
    const home = mkdtempSync(join(tmpdir(), 'stoq-cfg-'));
    writeFileSync(join(home, 'stoq.cfg'), '[core]\nmax_recursion = 9\n');
    expect(loadStoqConfig({ home }).core.max_recursion).toBe(9);
  });
});

describe('plugin options', () => {
  test('precedence: schema default < manifest < stoq.cfg < --plugin-opts', () => {
    const resolved = resolvePluginOptions(widget, [
      { label: 'manifest', values: { threshold: 2, label: 'manifest', tags: ['m'] } },
      { label: 'stoq.cfg [widget]', values: { threshold: '3', label: 'cfg' } },
      { label: '--plugin-opts', values: { threshold: '4' } },
    ]);

    expect(resolved.options).toEqual({ threshold: 4, label: 'cfg', enabled: true, tags: ['m'] });
  });

  test('strings from INI and the CLI are coerced by the schema type', () => {
    const resolved = resolvePluginOptions(widget, [
      { label: 'cfg', values: { enabled: 'no', tags: 'a, b', label: '42' } },
    ]);
    expect(resolved.options).toMatchObject({ enabled: false, tags: ['a', 'b'], label: '42' });
  });

  test('an invalid option names the plugin, key, value, source and expectation', () => {
    const call = () =>
      resolvePluginOptions(widget, [{ label: '--plugin-opts', values: { threshold: '-3' } }]);
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(/plugin "widget" option \(from --plugin-opts\) threshold: .*>=0.*got -3/);
  });

  test('activity settings and required_workers ride along with plugin options', () => {
    const resolved = resolvePluginOptions(widget, [
      {
        label: 'cfg',
        values: {
          retry_max_attempts: '5',
          start_to_close_timeout: '30',
          required_workers: 'hash,yara',
        },
      },
    ]);
    expect(resolved.activity).toMatchObject({ retry_max_attempts: 5, start_to_close_timeout: 30 });
    expect(resolved.requiredWorkers).toEqual(['hash', 'yara']);
    expect(resolved.options).toEqual({ threshold: 1, label: 'schema', enabled: true, tags: [] });
  });

  test('a bad activity setting is an error naming the key', () => {
    expect(() =>
      resolvePluginOptions(widget, [{ label: 'cfg', values: { retry_max_attempts: '0' } }]),
    ).toThrow(/retry_max_attempts/);
  });
});

describe('scan plan', () => {
  const registry = buildRegistry({ extra: [widget] });

  test('a plan resolves lists from config and overrides from flags', () => {
    const plan = resolveScanPlan(
      parse('[core]\nalways_dispatch = widget\n[widget]\nthreshold = 8\n'),
      registry,
      {
        start_dispatch: ['widget'],
        max_recursion: 2,
      },
    );
    expect(plan).toMatchObject({
      always_dispatch: ['widget'],
      start_dispatch: ['widget'],
      max_recursion: 2,
    });
    expect(plan.plugins.widget.options).toMatchObject({ threshold: 8 });
    expect(plan.plugins.widget.activity.startToCloseTimeoutMs).toBe(600_000);
  });

  test('an unknown plugin named by configuration is a config error before work starts', () => {
    expect(() => resolveScanPlan(parse('[core]\ndispatchers = nope\n'), registry)).toThrow(
      'dispatchers: unknown plugin "nope"',
    );
    expect(() => resolveScanPlan(parse(''), registry, { plugin_opts: { nope: {} } })).toThrow(
      /--plugin-opts: no plugin named "nope"/,
    );
    expect(() => resolveScanPlan(parse('[nope]\na = 1\n'), registry)).toThrow(
      /\[nope\]: no plugin named "nope"/,
    );
  });

  test('a plugin of the wrong kind in a list is a config error', () => {
    expect(() => resolveScanPlan(parse(''), registry, { connectors: ['widget'] })).toThrow(
      'connectors: plugin "widget" is not a connector (it is worker)',
    );
  });

  test('bad options of a plugin nobody named mark it invalid instead of failing every scan', () => {
    const strict = definePlugin({
      name: 'strict',
      version: '1.0.0',
      description: 'needs a key',
      kinds: ['worker'],
      options: z.object({ api_key: z.string() }),
      create: () => ({ worker: { scan: async () => ({}) } }),
    });
    const plan = resolveScanPlan(parse(''), buildRegistry({ extra: [widget, strict] }));
    expect(plan.plugins.strict.invalid).toMatch(/plugin "strict" option api_key/);
    expect(() =>
      resolveScanPlan(parse(''), buildRegistry({ extra: [strict] }), {
        start_dispatch: ['strict'],
      }),
    ).toThrow(/api_key/);
  });
});
