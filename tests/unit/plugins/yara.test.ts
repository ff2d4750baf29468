import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginInstance } from '../../../src/plugins/api';
import yara, { escapeBytes, type YaraResults } from '../../../src/plugins/builtin/yara';
import { payloadFromBuffer, testRequest } from '../../../src/plugins/testing';
import { buildPe32 } from '../../fixtures/builders-b';

const logger = { info: () => undefined, child: () => logger } as never;
let home: string;

async function create(options: Record<string, unknown>): Promise<PluginInstance> {
  return yara.create(yara.options.parse(options), {
    logger,
    stoqHome: home,
    blobStore: {} as never,
  });
}

async function scan(plugin: PluginInstance, content: Buffer | string) {
  const result = await plugin.worker!.scan(payloadFromBuffer(content), testRequest());
  return { results: result!.results as YaraResults, dispatch_to: result!.dispatch_to };
}

const ZIP_RULE = `
rule zip_local_header : archive {
  meta:
    plugins = "decompress, hash"
    author = "tests"
    score = 7
  strings:
    $pk = { 50 4B 03 04 }
  condition:
    $pk at 0
}
`;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'stoq-yara-'));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('yara worker', () => {
  it('reports rule, tags, meta and string offsets of a match', async () => {
    const plugin = await create({ rules_text: ZIP_RULE });

    const { results } = await scan(plugin, Buffer.from('PK\x03\x04rest of a zip', 'latin1'));

    expect(results.matches).toEqual([
      {
        rule: 'zip_local_header',
        namespace: 'default',
        tags: ['archive'],
        meta: { plugins: 'decompress, hash', author: 'tests', score: 7 },
        strings: [{ identifier: '$pk', offset: 0, length: 4, data: 'PK\\x03\\x04' }],
      },
    ]);
  });

  it('dispatches to the plugins named in the rule meta', async () => {
    const plugin = await create({ rules_text: ZIP_RULE });

    const { dispatch_to } = await scan(plugin, Buffer.from('PK\x03\x04', 'latin1'));

    expect(dispatch_to).toEqual(['decompress', 'hash']);
  });

  it('returns no matches and no dispatch for content the rules do not match', async () => {
    const plugin = await create({ rules_text: ZIP_RULE });

    expect(await scan(plugin, 'plain text')).toEqual({ results: { matches: [] }, dispatch_to: [] });
  });

  it('keeps at most max_strings matches per string', async () => {
    const plugin = await create({
      rules_text: 'rule many { strings: $a = "ab" condition: $a }',
      max_strings: 5,
    });

    const { results } = await scan(plugin, 'ab'.repeat(100));

    expect(results.matches[0].strings.map((s) => s.offset)).toEqual([0, 2, 4, 6, 8]);
  });

  it('loads a rules directory with one namespace per file', async () => {
    mkdirSync(join(home, 'rules', 'office'), { recursive: true });
    writeFileSync(
      join(home, 'rules', 'generic.yar'),
      'rule hit { strings: $a = "needle" condition: $a }',
    );
    writeFileSync(
      join(home, 'rules', 'office', 'macros.yara'),
      'rule hit { strings: $a = "needle" condition: $a }',
    );
    writeFileSync(join(home, 'rules', 'notes.txt'), 'not a rule file');
    const plugin = await create({ rules: 'rules' });

    const { results } = await scan(plugin, 'hay needle hay');

    expect(results.matches.map((m) => `${m.namespace}:${m.rule}`)).toEqual([
      'generic:hit',
      'office/macros:hit',
    ]);
  });

  it('uses the PE module on a PE the fixture builds', async () => {
    const plugin = await create({
      rules_text:
        'import "pe"\nrule three_sections { condition: pe.number_of_sections == 3 and pe.is_dll() }',
    });

    const { results } = await scan(plugin, buildPe32({ dll: true }).bytes);

    expect(results.matches.map((m) => m.rule)).toEqual(['three_sections']);
  });
});

describe('yara dispatcher', () => {
  it('names the plugins of matching dispatch rules and lists the rules in meta', async () => {
    const plugin = await create({
      rules_text: 'rule never { condition: false }',
      dispatch_rules_text: ZIP_RULE,
    });

    const result = await plugin.dispatcher!.dispatch(
      payloadFromBuffer(Buffer.from('PK\x03\x04', 'latin1')),
      testRequest(),
    );

    expect(result).toEqual({
      plugin_names: ['decompress', 'hash'],
      meta: { rules: ['default:zip_local_header'] },
    });
  });
});

describe('yara rule loading', () => {
  it('stops plugin creation on a rule file that does not compile, naming file and line', async () => {
    const file = join(home, 'broken.yar');
    writeFileSync(
      file,
      'rule ok { condition: true }\n\nrule bad {\n  condition: undefined_thing\n}\n',
    );

    await expect(create({ rules: file })).rejects.toThrow(
      `yara rules do not compile: ${file}:4:14: unknown identifier \`undefined_thing\``,
    );
  });

  it('fails creation when one file of a rules directory does not compile', async () => {
    mkdirSync(join(home, 'rules'));
    writeFileSync(join(home, 'rules', 'a_good.yar'), 'rule good { condition: filesize > 0 }');
    writeFileSync(join(home, 'rules', 'b_bad.yar'), 'rule bad {\n  condition: $missing\n}');

    await expect(create({ rules: 'rules' })).rejects.toThrow(/b_bad\.yar:2:\d+: unknown pattern/);
  });

  it('resolves include statements relative to the including file', async () => {
    mkdirSync(join(home, 'rules'));
    writeFileSync(
      join(home, 'rules', 'common.yara'),
      'private rule has_needle { strings: $a = "needle" condition: $a }',
    );
    writeFileSync(
      join(home, 'main.yar'),
      'include "rules/common.yara"\nrule uses { condition: has_needle }',
    );
    const plugin = await create({ rules: 'main.yar' });

    const { results } = await scan(plugin, 'a needle');

    expect(results.matches.map((m) => m.rule)).toEqual(['uses']);
  });

  it('names rules_text as the source of an inline compile error', async () => {
    await expect(create({ rules_text: 'rule x { condition: nope }' })).rejects.toThrow(
      /rules_text:1:21/,
    );
  });

  it('refuses a rules path that does not exist', async () => {
    await expect(create({ rules: 'missing.yar' })).rejects.toThrow(/missing\.yar cannot be read/);
  });

  it('requires rules or rules_text, naming the key', () => {
    const parsed = yara.options.safeParse({});

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].path).toEqual(['rules']);
  });
});

describe('escapeBytes', () => {
  it('keeps printable ASCII and escapes the rest, backslash included', () => {
    expect(escapeBytes(Buffer.from([0x41, 0x00, 0x5c, 0xff]))).toBe('A\\x00\\x5c\\xff');
  });
});
