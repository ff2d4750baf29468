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
import { commonFlagsSchema, connectionFlagsSchema, parseFlags, planFlagsSchema } from '../options';
import { printJson, printLine } from '../output';
import { planScan } from '../plan-flags';
import { openSession, submitterOptions } from '../session';
import { appFlagsOf, checkScanId } from './common';
import { waitForScan } from './scan';

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
  checkScanId(originalScanId);
  const ctx = loadAppContext(appFlagsOf(flags));
  // The retry runs with today's configuration: a fixed option is part of fixing a fault.
  const { plan } = planScan(ctx, flags);
  const taskQueue = flags.taskQueue ?? ctx.config.temporal.task_queue;

  const session = await openSession(ctx, flags, submitterOptions(flags, taskQueue));
  try {
    const submitted = await submitRetry(
      { client: session.client, blobStore: ctx.blobStore, taskQueue },
      { originalScanId, plan, plugins: flags.plugin, scanId: flags.scanId },
    );
    if (flags.detach) {
      await printLine(submitted.scanId);
      return;
    }
    await waitForScan(session, submitted);
    await printJson(await readResponse(ctx.blobStore, submitted.scanId));
  } finally {
    await session.close();
  }
}
