/**
 * `template` decorator: renders a Jinja-like (nunjucks) template with the scan response as
 * its context, e.g. `{{ scan_id }}: {{ results | length }} payloads`.
 *
 * The template is the option `template` (inline text) or `template_file` (a path, relative
 * to the stoQ home unless absolute); exactly one must be set. Autoescaping is off (the
 * output is usually text or JSON, not HTML); set `autoescape` for HTML. Result: `{ rendered }`.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import nunjucks from 'nunjucks';
import { z } from 'zod';
import { definePlugin, PluginError } from '../../api';

export const templateOptions = z
  .object({
    template: z.string().min(1).optional(),
    template_file: z.string().min(1).optional(),
    autoescape: z.boolean().default(false),
  })
  .refine((o) => (o.template === undefined) !== (o.template_file === undefined), {
    message: 'set exactly one of "template" and "template_file"',
    path: ['template'],
  });

/** The `template` decorator's result. */
export interface TemplateResults {
  rendered: string;
}

export default definePlugin({
  name: 'template',
  version: '1.0.0',
  description: 'Renders a nunjucks (Jinja-like) template with the scan response',
  kinds: ['decorator'],
  options: templateOptions,
  create: async (options, context) => {
    const source =
      options.template ??
      (await readFile(resolveFile(options.template_file!, context.stoqHome), 'utf8'));
    // No loaders: a template cannot include or import files from anywhere.
    const environment = new nunjucks.Environment([], { autoescape: options.autoescape });
    const compiled = compile(source, environment);

    return {
      decorator: {
        async decorate(response) {
          const results: TemplateResults = { rendered: compiled.render(response) };
          return { results };
        },
      },
    };
  },
});

function resolveFile(path: string, stoqHome: string): string {
  return isAbsolute(path) ? path : join(stoqHome, path);
}

function compile(source: string, environment: nunjucks.Environment): nunjucks.Template {
  try {
    return new nunjucks.Template(source, environment, undefined, true);
  } catch (error) {
    throw new PluginError(`template: ${(error as Error).message}`, { retryable: false });
  }
}
