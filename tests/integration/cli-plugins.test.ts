/** `stoq list` and `stoq install` through the built CLI. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, requireBuiltCli, runCli, writeProbePlugin } from '../harness/cli';

let home: string;
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  requireBuiltCli();
  home = mkdtempSync(join(tmpdir(), 'stoq-cli-plugins-home-'));
  work = mkdtempSync(join(tmpdir(), 'stoq-cli-plugins-'));
  env = cliEnv({ STOQ_HOME: home });
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

interface Row {
  name: string;
  version: string;
  kinds: string[];
  description: string;
  source: string;
}

test('list shows name, version, kinds and description of built-in and --plugin-dir plugins', async () => {
  writeProbePlugin(join(work, 'extra'), 'listed');

  const table = await runCli(['list', '--plugin-dir', join(work, 'extra')], { env });
  const json = await runCli(['list', '--json', '--plugin-dir', join(work, 'extra')], { env });

  expect(table.code).toBe(0);
  expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+VERSION\s+KINDS\s+DESCRIPTION$/);
  expect(table.stdout).toMatch(
    /^listed\s+1\.0\.0\s+worker,dispatcher,archiver,decorator,connector\s+Echoes its options/m,
  );
  const rows = JSON.parse(json.stdout) as Row[];
  expect(rows.find((row) => row.name === 'listed')).toEqual({
    name: 'listed',
    version: '1.0.0',
    kinds: ['worker', 'dispatcher', 'archiver', 'decorator', 'connector'],
    description: 'Echoes its options and the request (CLI test fixture)',
    source: join(work, 'extra', 'listed'),
  });
  expect(rows.filter((row) => row.source === 'builtin').length).toBeGreaterThan(0);
});

test('install copies a plugin directory into the home, refuses to overwrite, and upgrades on request', async () => {
  const source = writeProbePlugin(join(work, 'src-v1'), 'installed', '1.0.0');
  const target = join(home, 'plugins', 'installed');

  const first = await runCli(['install', source], { env });
  expect(first.code).toBe(0);
  expect(first.stdout.trim()).toBe(`installed installed 1.0.0 into ${target}`);
  expect(readFileSync(join(target, 'stoq-plugin.json'), 'utf8')).toBe(
    readFileSync(join(source, 'stoq-plugin.json'), 'utf8'),
  );

  const listed = JSON.parse((await runCli(['list', '--json'], { env })).stdout) as Row[];
  expect(listed.find((row) => row.name === 'installed')).toMatchObject({
    version: '1.0.0',
    source: target,
  });

  const again = await runCli(['install', source], { env });
  expect(again.code).toBe(2);
  expect(again.stderr.trim()).toBe(
    `stoq: plugin "installed" is already installed at ${target} (use --upgrade to replace it)`,
  );

  const newer = writeProbePlugin(join(work, 'src-v2'), 'installed', '2.0.0');
  const upgraded = await runCli(['install', '--upgrade', newer], { env });
  expect(upgraded.code).toBe(0);
  const after = JSON.parse((await runCli(['list', '--json'], { env })).stdout) as Row[];
  expect(after.find((row) => row.name === 'installed')?.version).toBe('2.0.0');
});

test('install of a missing path, or of a directory without a manifest, is a usage error', async () => {
  const missing = await runCli(['install', join(work, 'nowhere')], { env });
  expect(missing.code).toBe(2);
  expect(missing.stderr.trim()).toBe(`stoq: no such plugin directory: ${join(work, 'nowhere')}`);

  const plain = mkdtempSync(join(work, 'plain-'));
  writeFileSync(join(plain, 'index.js'), 'module.exports = {};');
  const noManifest = await runCli(['install', plain], { env });
  expect(noManifest.code).toBe(2);
  expect(noManifest.stderr.trim()).toBe(
    `stoq: ${plain} is not a plugin directory: it has no stoq-plugin.json`,
  );
  expect(existsSync(join(home, 'plugins', 'plain'))).toBe(false);
});

test('a plugin directory whose module is broken is refused with the reason', async () => {
  const broken = join(work, 'broken');
  writeProbePlugin(work, 'broken');
  writeFileSync(join(broken, 'index.js'), 'throw new Error("boom at load");');

  const result = await runCli(['install', broken], { env });

  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toMatch(
    /^stoq: cannot load plugin at .*broken: module failed to load: boom at load$/,
  );
});
