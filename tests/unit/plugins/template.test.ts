import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import templatePlugin from '../../../src/plugins/builtin/template';
import { stoqResponseSchema } from '../../../src/model/schemas';
import { PluginError } from '../../../src/plugins/api';
import { createSetupContext } from './setup-a';

const response = stoqResponseSchema.parse({
  scan_id: 'scan-9',
  time: '2024-03-01T10:00:00Z',
  results: [
    { payload_id: 'a', size: 1, workers: { hash: { sha256: 'aa' } } },
    { payload_id: 'b', size: 2, workers: { hash: { sha256: 'bb' } } },
  ],
  errors: [{ error: 'x', plugin_name: 'yara', payload_id: 'b' }],
});

async function render(options: unknown, stoqHome = '/nonexistent') {
  const plugin = await templatePlugin.create(
    templatePlugin.options.parse(options),
    createSetupContext({ stoqHome }),
  );
  return ((await plugin.decorator!.decorate(response)) as { results: { rendered: string } }).results
    .rendered;
}

describe('template decorator', () => {
  it('renders an inline template with the response as context', async () => {
    const template =
      '{{ scan_id }}: {{ results | length }} payloads;' +
      '{% for r in results %} {{ r.workers.hash.sha256 }}{% endfor %}; errors by {{ errors[0].plugin_name }}';

    expect(await render({ template })).toBe('scan-9: 2 payloads; aa bb; errors by yara');
  });

  it('reads template_file relative to the stoQ home', async () => {
    const home = await mkdtemp(join(tmpdir(), 'template-home-'));
    await writeFile(join(home, 'summary.j2'), '{{ results[1].payload_id | upper }}<{{ time }}>');

    expect(await render({ template_file: 'summary.j2' }, home)).toBe('B<2024-03-01T10:00:00Z>');
  });

  it('requires exactly one of template and template_file', () => {
    const neither = templatePlugin.options.safeParse({});
    const both = templatePlugin.options.safeParse({ template: 'a', template_file: 'b' });

    expect(neither.error?.issues[0].path).toEqual(['template']);
    expect(both.success).toBe(false);
  });

  it('reports a template syntax error at creation, not retryable', async () => {
    const error = await render({ template: '{% for x in %}' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).retryable).toBe(false);
  });
});
