/** `stoq history`: past and running scans, newest first, found by stoQ's search attributes. */
import { loadAppContext } from '../../app/context';
import { listScans, type HistoryFilter, type ScanListing } from '../../client/history';
import { historyFlagsSchema, parseFlags, type HistoryFlags } from '../options';
import { printJson, printLine } from '../output';
import { CLIENT_ONLY, openSession } from '../session';
import { appFlagsOf } from './common';

export async function historyCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(historyFlagsSchema, raw);
  const ctx = loadAppContext(appFlagsOf(flags));

  const session = await openSession(ctx, flags, CLIENT_ONLY);
  try {
    const scans = await listScans(session.client, filterOf(flags), flags.limit);
    if (flags.json) {
      for (const scan of scans) await printJson(scan, 0);
      return;
    }
    if (scans.length === 0) {
      process.stderr.write('no scans found\n');
      return;
    }
    for (const scan of scans) await printLine(describeListing(scan));
  } finally {
    await session.close();
  }
}

function filterOf(flags: HistoryFlags): HistoryFilter {
  return {
    sha256: flags.sha256,
    filename: flags.filename,
    source: flags.source,
    hasErrors: flags.errors,
    since: flags.since,
    until: flags.until,
    worker: flags.worker,
    yaraRule: flags.yaraRule,
    status: flags.status,
  };
}

/** One line a scan: start time, status, scan id, then what is known about it. */
function describeListing(scan: ScanListing): string {
  const facts = [
    scan.payload_count === null ? undefined : `${scan.payload_count} payloads`,
    scan.has_errors ? 'errors' : undefined,
    scan.source === null ? undefined : `source ${scan.source}`,
    scan.filename === null ? undefined : JSON.stringify(scan.filename),
  ].filter((fact): fact is string => fact !== undefined);
  return [scan.start_time, scan.status.padEnd(10), scan.scan_id, ...facts].join('  ');
}
