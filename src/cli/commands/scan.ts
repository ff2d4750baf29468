/** `stoq scan [FILE|-]`: one scan, its response printed as stoQ's JSON. */
import { WorkflowFailedError } from '@temporalio/client';
import { loadAppContext, type AppContext } from '../../app/context';
import { readResponse, submitScan, type SubmittedScan } from '../../client/submit';
import { InfraError } from '../errors';
import { openScanInput } from '../input';
import { parseFlags, scanFlagsSchema } from '../options';
import { printJson, printLine } from '../output';
import { planScan } from '../plan-flags';
import { openSession, submitterOptions, type Session } from '../session';
import { appFlagsOf } from './common';

export async function scanCommand(
  file: string | undefined,
  raw: Record<string, unknown>,
): Promise<void> {
  const flags = parseFlags(scanFlagsSchema, raw);
  const ctx = loadAppContext(appFlagsOf(flags));
  const planned = planScan(ctx, flags);
  const input = await openScanInput(file);
  const taskQueue = flags.taskQueue ?? ctx.config.temporal.task_queue;

  const session = await openSession(ctx, flags, submitterOptions(flags, taskQueue));
  try {
    const submitted = await submitScan(
      { client: session.client, blobStore: ctx.blobStore, taskQueue },
      {
        content: input.content,
        plan: planned.plan,
        scanId: flags.scanId,
        filename: input.filename,
        requestMeta: planned.requestMeta,
      },
    );
    ctx.logger.debug(
      { scan_id: submitted.scanId, address: session.address, task_queue: taskQueue },
      'scan started',
    );

    if (flags.detach) {
      await printLine(submitted.scanId);
      return;
    }
    await waitForScan(session, submitted);
    await report(ctx, submitted.scanId, planned.plan.connectors);
  } finally {
    await session.close();
  }
}

async function report(ctx: AppContext, scanId: string, connectors: string[]): Promise<void> {
  const response = await readResponse(ctx.blobStore, scanId);
  // stoQ's rule: with a connector the response goes there, without one to stdout.
  if (connectors.length === 0) {
    await printJson(response);
    return;
  }
  ctx.logger.info(
    {
      scan_id: scanId,
      connectors,
      errors: response.errors.length,
      payloads: response.results.length,
    },
    'scan finished',
  );
}

/** Waits for a submitted scan; an in-process worker that dies fails the wait too. */
export async function waitForScan(session: Session, submitted: SubmittedScan): Promise<void> {
  await Promise.race([submitted.handle.result(), session.workerFailure]).catch((error: unknown) => {
    throw scanFailed(submitted.scanId, error);
  });
}

export function scanFailed(scanId: string, error: unknown): Error {
  if (error instanceof InfraError) return error;
  const cause =
    error instanceof WorkflowFailedError && error.cause ? `: ${error.cause.message}` : '';
  return new InfraError(`scan ${scanId} did not complete: ${(error as Error).message}${cause}`, {
    cause: error,
  });
}
