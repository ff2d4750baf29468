import { appendFile, mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dirmonPlugin from '../../../src/plugins/builtin/dirmon';
import type { ProviderItem } from '../../../src/plugins/api';
import { contentToBuffer } from '../../../src/plugins/testing';
import { buildZip } from '../../fixtures/builders-a';
import { createSetupContext } from './setup-a';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

async function startMonitor(options: Record<string, unknown>) {
  const submitted: Array<{ filename: unknown; content: Buffer }> = [];
  const sink = {
    async put(item: ProviderItem) {
      const content = 'content' in item ? await contentToBuffer(item.content) : Buffer.alloc(0);
      submitted.push({ filename: item.payload_meta?.extra_data?.filename, content });
    },
  };
  const plugin = await dirmonPlugin.create(
    dirmonPlugin.options.parse(options),
    createSetupContext(),
  );
  const controller = new AbortController();
  const running = plugin.provider!.ingest(sink, controller.signal);
  return { submitted, stop: () => (controller.abort(), running) };
}

describe('dirmon provider', () => {
  it('submits each new file once, after it stops growing, and skips existing ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dirmon-'));
    await writeFile(join(dir, 'old.txt'), 'already here');
    const monitor = await startMonitor({ source_dir: dir, settle_ms: 150, poll_interval_ms: 1000 });
    await sleep(50);

    await writeFile(join(dir, 'growing.bin'), 'part one;');
    await sleep(60);
    await appendFile(join(dir, 'growing.bin'), 'part two');
    const zip = await buildZip([{ name: 'a', content: 'b' }]);
    await writeFile(join(dir, 'sample.zip.tmp'), zip);
    await rename(join(dir, 'sample.zip.tmp'), join(dir, 'sample.zip'));
    await until(() => monitor.submitted.length >= 2);
    await sleep(400);
    await monitor.stop();

    const byName = Object.fromEntries(monitor.submitted.map((s) => [s.filename, s.content]));
    expect(monitor.submitted).toHaveLength(2);
    expect(byName['growing.bin'].toString()).toBe('part one;part two');
    expect(byName['sample.zip']).toEqual(zip);
  });

  it('finds new files by polling when events are slow, and processes existing ones on request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dirmon-poll-'));
    await writeFile(join(dir, 'existing.txt'), 'e');
    const monitor = await startMonitor({
      source_dir: dir,
      process_existing: true,
      settle_ms: 0,
      poll_interval_ms: 50,
    });

    await until(() => monitor.submitted.length === 1);
    await writeFile(join(dir, 'later.txt'), 'l');
    await until(() => monitor.submitted.length === 2);
    await monitor.stop();

    expect(monitor.submitted.map((s) => s.filename)).toEqual(['existing.txt', 'later.txt']);
  });

  it('stops promptly when the signal aborts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dirmon-stop-'));
    const monitor = await startMonitor({ source_dir: dir, poll_interval_ms: 60_000 });
    await sleep(50);

    const started = Date.now();
    await monitor.stop();

    expect(Date.now() - started).toBeLessThan(1000);
  });
});
