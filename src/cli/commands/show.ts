/**
 * `stoq show SCAN_ID`: the stored response of a finished scan, or the partial one a cancelled
 * scan kept. Without a stored response, the scan's workflow says why: still running, failed,
 * or no such scan.
 */
import { loadAppContext, type AppContext } from '../../app/context';
import { describeBlobStore } from '../../blobstore';
import { statusName } from '../../client/history';
import { readResponse } from '../../client/submit';
import type { StoqResponse } from '../../model/schemas';
import { ScanLedger } from '../../scan/ledger';
import { SCAN_CANCELLED } from '../../workflows/scan';
import { InfraError } from '../errors';
import { parseFlags, showFlagsSchema, type ShowFlags } from '../options';
import { printJson } from '../output';
import { CLIENT_ONLY, openSession } from '../session';
import { scanFailed } from './scan';
import { appFlagsOf, checkScanId, describeScan } from './common';

export async function showCommand(scanId: string, raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(showFlagsSchema, raw);
  checkScanId(scanId);
  const ctx = loadAppContext(appFlagsOf(flags));

  const stored = await new ScanLedger(ctx.blobStore, scanId).response();
  if (stored) {
    if (isPartial(stored))
      process.stderr.write(`stoq: scan ${scanId} was cancelled: this response is partial\n`);
    await printJson(stored);
    return;
  }
  await explainMissing(ctx, flags, scanId);
}

/** A cancelled scan stores what it found with a framework error saying so. */
function isPartial(response: StoqResponse): boolean {
  return response.errors.some(
    (error) =>
      error.error === SCAN_CANCELLED && error.plugin_name === null && error.payload_id === null,
  );
}

async function explainMissing(ctx: AppContext, flags: ShowFlags, scanId: string): Promise<void> {
  const session = await openSession(ctx, flags, CLIENT_ONLY);
  try {
    const handle = session.client.workflow.getHandle(scanId);
    const description = await describeScan(handle, scanId);

    const status = description.status.name;
    if (status === 'RUNNING' && flags.wait) {
      await handle.result().catch((error: unknown) => {
        throw scanFailed(scanId, error);
      });
      await printJson(await readResponse(ctx.blobStore, scanId));
      return;
    }
    if (status === 'RUNNING')
      throw new InfraError(`scan ${scanId} is still running (use --wait to wait for it)`);
    if (status === 'COMPLETED') {
      throw new InfraError(
        `scan ${scanId} completed but its response is not in the blob store at ${describeBlobStore(ctx.config.blobstore)}`,
      );
    }
    throw new InfraError(`scan ${scanId} has no response: its workflow is ${statusName(status)}`);
  } finally {
    await session.close();
  }
}
