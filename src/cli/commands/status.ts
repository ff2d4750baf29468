/** `stoq status SCAN_ID`: how far a scan got, from its workflows' state and queries. */
import { loadAppContext } from '../../app/context';
import { scanStatus, type ScanStatus } from '../../client/status';
import { UsageError } from '../errors';
import { parseFlags, statusFlagsSchema } from '../options';
import { printJson, printLine } from '../output';
import { CLIENT_ONLY, openSession } from '../session';
import { appFlagsOf, checkScanId } from './common';

export async function statusCommand(scanId: string, raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(statusFlagsSchema, raw);
  checkScanId(scanId);
  const ctx = loadAppContext(appFlagsOf(flags));

  const session = await openSession(ctx, flags, CLIENT_ONLY);
  try {
    const status = await scanStatus(session.client, scanId);
    if (!status) throw new UsageError(`no scan with id ${scanId}`);
    if (flags.json) await printJson(status, 0);
    else for (const line of describeStatus(status)) await printLine(line);
  } finally {
    await session.close();
  }
}

/** The human form: one fact a line, then one line per payload at work. */
export function describeStatus(status: ScanStatus): string[] {
  const lines = [
    `scan      ${status.scan_id}`,
    `status    ${status.status}${status.phase && status.status === 'running' ? ` (${status.phase})` : ''}`,
    `payloads  ${status.payloads_done} done, ${status.payloads_pending} in progress`,
  ];
  for (const payload of status.running) {
    const plugins = payload.plugins.length > 0 ? payload.plugins.join(', ') : '(between plugins)';
    lines.push(`  ${payload.payload_id}  ${plugins}`);
  }
  if (status.payloads_pending > status.running.length)
    lines.push(`  ... and ${status.payloads_pending - status.running.length} more`);
  return lines;
}
