/** Small pieces every command shares. */
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { AppFlags } from '../../app/context';
import { scanIdSchema } from '../../scan/ids';
import { UsageError } from '../errors';

export function appFlagsOf(flags: {
  configFile?: string;
  pluginDir?: string[];
  logLevel?: AppFlags['logLevel'];
}): AppFlags {
  return { configFile: flags.configFile, pluginDirs: flags.pluginDir, logLevel: flags.logLevel };
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
export function untilStopSignal(
  onSignal?: (signal: NodeJS.Signals) => void,
): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) process.exit(130);
      received = true;
      onSignal?.(signal);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

export function checkScanId(scanId: string): void {
  if (!scanIdSchema.safeParse(scanId).success)
    throw new UsageError(`not a scan id: ${JSON.stringify(scanId)}`);
}

/** The scan's workflow description; an unknown scan id is a usage error. */
export function describeScan(handle: WorkflowHandle, scanId: string) {
  return handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) throw new UsageError(`no scan with id ${scanId}`);
    throw error;
  });
}
