/**
 * A stoQ worker: a Temporal worker that runs the scan workflows and the activities that
 * call plugins. Many can run on many machines against one cluster and one blob store.
 *
 * Workflow code comes from a bundle built ahead of time (`npm run build` writes
 * dist/workflow-bundle.js), so a worker starts without bundling; a worker started from
 * sources (tests, development) bundles on start instead.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { BlobStore } from '../blobstore/types';
import type { Logger } from '../log';
import { PluginHost } from '../plugins/host';
import type { PluginRegistry } from '../plugins/registry';

export interface StoqWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  registry: PluginRegistry;
  blobStore: BlobStore;
  logger: Logger;
  stoqHome: string;
  /** A prebuilt workflow bundle; default: dist/workflow-bundle.js when present. */
  workflowBundlePath?: string;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  /** The payload codec; must match the client's (see `dataConverterFor`). */
  dataConverter?: WorkerOptions['dataConverter'];
}

export interface StoqWorker {
  worker: Worker;
  plugins: PluginHost;
  /** Runs until `shutdown()`; closes plugin instances at the end. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createStoqWorker(options: StoqWorkerOptions): Promise<StoqWorker> {
  const plugins = new PluginHost({
    registry: options.registry,
    blobStore: options.blobStore,
    logger: options.logger,
    stoqHome: options.stoqHome,
  });
  const activities = createActivities({
    blobStore: options.blobStore,
    plugins,
    logger: options.logger,
  });

  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    dataConverter: options.dataConverter,
    ...workflowSource(options.workflowBundlePath),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 20,
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions ?? 40,
  });

  return {
    worker,
    plugins,
    async run() {
      try {
        await worker.run();
      } finally {
        await plugins.close();
      }
    },
    shutdown: () => worker.shutdown(),
  };
}

export function defaultWorkflowBundlePath(): string {
  return join(__dirname, '..', '..', 'workflow-bundle.js');
}

function workflowSource(
  bundlePath?: string,
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const codePath = bundlePath ?? defaultWorkflowBundlePath();
  if (existsSync(codePath)) return { workflowBundle: { codePath } };
  return { workflowsPath: require.resolve('../workflows') };
}
