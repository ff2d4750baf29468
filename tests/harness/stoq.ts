/**
 * A scan environment for integration tests: a fresh stoQ home with a filesystem blob
 * store, a real stoQ worker on its own task queue against the harness's Temporal server,
 * and a client to submit scans through the public API.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { FilesystemBlobStore } from '../../src/blobstore';
import type { BlobStore } from '../../src/blobstore/types';
import { parseStoqConfig } from '../../src/config/stoq-config';
import { createLogger } from '../../src/log';
import type { PluginDefinition } from '../../src/plugins/api';
import { buildRegistry, type PluginRegistry } from '../../src/plugins/registry';
import { submitScan, waitForResponse, type ScanSubmission } from '../../src/client/submit';
import { resolveScanPlan, type PlanOverrides } from '../../src/scan/plan';
import { createStoqWorker, type StoqWorker } from '../../src/temporal/worker';
import { installSdkLogging } from '../../src/temporal/sdk-logging';
import type { StoqResponse } from '../../src/model/schemas';
import { newConnection, newNativeConnection, uniqueId } from './temporal';

const WORKFLOWS_DIR = join(__dirname, '..', '..', 'src', 'workflows');

/** Bundles the workflow code once per change of its sources; later test files reuse it. */
export async function workflowBundlePath(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of readdirSync(WORKFLOWS_DIR).sort())
    hash.update(readFileSync(join(WORKFLOWS_DIR, file)));
  const path = join(tmpdir(), `stoq-workflow-bundle-${hash.digest('hex').slice(0, 16)}.js`);

  if (!existsSync(path)) {
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
    });
    writeFileSync(path, bundle.code);
  }
  return path;
}

export interface ScanEnvOptions {
  plugins?: PluginDefinition[];
  builtins?: PluginDefinition[];
  /** stoq.cfg text. */
  config?: string;
  /** A Temporal server other than the harness's shared one, `host:port`. */
  address?: string;
  /** A blob store other than a filesystem store under the test's home (an S3 bucket...). */
  blobStore?: BlobStore;
}

export interface ScanResult {
  scanId: string;
  response: StoqResponse;
  handle: WorkflowHandle;
}

export class ScanEnv {
  constructor(
    readonly home: string,
    readonly blobStore: BlobStore,
    readonly registry: PluginRegistry,
    readonly client: Client,
    readonly taskQueue: string,
    private readonly config: string,
    private readonly connection: Connection,
    private readonly workerConnection: NativeConnection,
    private readonly worker: StoqWorker,
    private readonly running: Promise<void>,
  ) {}

  static async start(options: ScanEnvOptions = {}): Promise<ScanEnv> {
    const home = mkdtempSync(join(tmpdir(), 'stoq-home-'));
    const blobStore = options.blobStore ?? new FilesystemBlobStore(join(home, 'blobs'));
    const registry = buildRegistry({
      builtins: options.builtins ?? [],
      extra: options.plugins ?? [],
    });
    const taskQueue = uniqueId('stoq-test');
    const logger = createLogger({
      level: (process.env.STOQ_TEST_LOG_LEVEL as 'info') ?? 'warn',
      pretty: false,
    });

    installSdkLogging(logger);
    const workerConnection = options.address
      ? await NativeConnection.connect({ address: options.address })
      : await newNativeConnection();
    const worker = await createStoqWorker({
      connection: workerConnection,
      namespace: 'default',
      taskQueue,
      registry,
      blobStore,
      logger,
      stoqHome: home,
      workflowBundlePath: await workflowBundlePath(),
    });
    const running = worker.run();
    const connection = options.address
      ? await Connection.connect({ address: options.address })
      : await newConnection();
    const client = new Client({ connection, namespace: 'default' });

    return new ScanEnv(
      home,
      blobStore,
      registry,
      client,
      taskQueue,
      options.config ?? '',
      connection,
      workerConnection,
      worker,
      running,
    );
  }

  /** Submits a scan and waits for its response. */
  async scan(
    content: Buffer | string,
    overrides: PlanOverrides = {},
    submission: Partial<ScanSubmission> = {},
  ): Promise<ScanResult> {
    const handle = await this.submit(content, overrides, submission);
    const response = await waitForResponse(handle.handle, this.blobStore);
    return { scanId: handle.scanId, response, handle: handle.handle };
  }

  async submit(
    content: Buffer | string,
    overrides: PlanOverrides = {},
    submission: Partial<ScanSubmission> = {},
  ) {
    const config = parseStoqConfig(this.config, { home: this.home });
    const plan = resolveScanPlan(config, this.registry, overrides);
    return submitScan(
      { client: this.client, blobStore: this.blobStore, taskQueue: this.taskQueue },
      { content: Buffer.from(content), plan, scanId: uniqueId('scan'), ...submission },
    );
  }

  async close(): Promise<void> {
    this.worker.shutdown();
    await this.running;
    await this.workerConnection.close();
    await this.connection.close();
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** The result entry of the payload whose content starts with `text`. */
export function resultFor(response: StoqResponse, worker: string, text: string) {
  return response.results.find((result) => {
    const entry = result.workers[worker] as { text?: string } | undefined;
    return entry?.text?.startsWith(text);
  });
}
