/**
 * `stoq retry SCAN_ID`: runs the plugins that failed in a finished scan again, against its
 * stored payloads, and prints the corrected response (a new scan whose
 * `request_meta.extra_data.retry_of` names the original). What succeeded is not run again.
 */
import { z } from 'zod';
import { loadAppContext } from '../../app/context';
import { submitRetry } from '../../client/retry';
import { readResponse } from '../../client/submit';
import { scanIdSchema } from '../../scan/ids';
import { UsageError } from '../errors';
import { commonFlagsSchema, connectionFlagsSchema, parseFlags, planFlagsSchema } from '../options';
import { printJson, printLine } from '../output';
import { planScan } from '../plan-flags';
import { openSession } from '../session';
import { appFlagsOf } from './common';
import { scanFailed } from './scan';

export const retryFlagsSchema = commonFlagsSchema
  .extend(connectionFlagsSchema.shape)
  .extend(planFlagsSchema.shape)
  .extend({
    plugin: z.array(z.string().min(1)).optional(),
    scanId: scanIdSchema.optional(),
    detach: z.boolean().optional(),
  });

export async function retryCommand(
  originalScanId: string,
  raw: Record<string, unknown>,
): Promise<void> {
  const flags = parseFlags(retryFlagsSchema, raw);
  if (!scanIdSchema.safeParse(originalScanId).success) {
    throw new UsageError(`not a scan id: ${JSON.stringify(originalScanId)}`);
  }
  const ctx = loadAppContext(appFlagsOf(flags));
  // The retry runs with today's configuration: a fixed option is part of fixing a fault.
  const { plan } = planScan(ctx, flags);
  const taskQueue = flags.taskQueue ?? ctx.config.temporal.task_queue;

  const session = await openSession(ctx, flags, {
    mayStartServer: !flags.detach,
    worker: flags.detach ? 'never' : flags.localWorker ? 'always' : 'auto',
    taskQueue,
  });
  try {
    const submitted = await submitRetry(
      { client: session.client, blobStore: ctx.blobStore, taskQueue },
      { originalScanId, plan, plugins: flags.plugin, scanId: flags.scanId },
    );
    if (flags.detach) {
      await printLine(submitted.scanId);
      return;
    }
    await Promise.race([submitted.handle.result(), session.workerFailure]).catch(
      (error: unknown) => {
        throw scanFailed(submitted.scanId, error);
      },
    );
    await printJson(await readResponse(ctx.blobStore, submitted.scanId));
  } finally {
    await session.close();
  }
}
