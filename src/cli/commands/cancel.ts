/**
 * `stoq cancel SCAN_ID`: cancels a running scan. The scan workflow stores what it found so
 * far as a partial response, which `stoq show` prints.
 */
import { loadAppContext } from '../../app/context';
import { describeBlobStore } from '../../blobstore';
import { statusName } from '../../client/history';
import { ScanLedger } from '../../scan/ledger';
import { InfraError } from '../errors';
import { cancelFlagsSchema, parseFlags } from '../options';
import { printLine } from '../output';
import { CLIENT_ONLY, openSession } from '../session';
import { appFlagsOf, checkScanId, describeScan } from './common';

/** How long to wait for the scan to close after the cancellation request. */
const CLOSE_TIMEOUT_MS = 60_000;

export async function cancelCommand(scanId: string, raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(cancelFlagsSchema, raw);
  checkScanId(scanId);
  const ctx = loadAppContext(appFlagsOf(flags));

  const session = await openSession(ctx, flags, CLIENT_ONLY);
  try {
    const handle = session.client.workflow.getHandle(scanId);
    const description = await describeScan(handle, scanId);
    if (description.status.name !== 'RUNNING')
      throw new InfraError(
        `scan ${scanId} is not running: it is ${statusName(description.status.name)}`,
      );

    await handle.cancel();
    if (!flags.wait) {
      await printLine(`cancellation of scan ${scanId} requested`);
      return;
    }

    if (!(await closedWithin(handle.result(), CLOSE_TIMEOUT_MS))) {
      throw new InfraError(
        `cancellation of scan ${scanId} requested, but it did not close within ${CLOSE_TIMEOUT_MS / 1000} s (is a worker running?)`,
      );
    }
    const closed = statusName((await handle.describe()).status.name);
    if (closed !== 'cancelled') {
      await printLine(`scan ${scanId} closed before the cancellation took effect: it is ${closed}`);
      return;
    }
    const kept = (await new ScanLedger(ctx.blobStore, scanId).response()) !== undefined;
    await printLine(
      kept
        ? `scan ${scanId} cancelled; its partial response was kept: stoq show ${scanId}`
        : `scan ${scanId} cancelled; no partial response is in the blob store at ${describeBlobStore(ctx.config.blobstore)}`,
    );
  } finally {
    await session.close();
  }
}

/** True once the workflow closed, however it closed; false when the time ran out. */
async function closedWithin(result: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      result.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
