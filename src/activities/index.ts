/** The activities a stoQ worker registers; workflows import only the `ScanActivities` type. */
import { pluginCallActivities } from './plugin-calls';
import type { ActivityRuntime } from './runtime';
import { scanLedgerActivities } from './scan-ledger';

export type { ActivityRuntime } from './runtime';

export function createActivities(runtime: ActivityRuntime) {
  return {
    ...pluginCallActivities(runtime),
    ...scanLedgerActivities(runtime),
  };
}

export type ScanActivities = ReturnType<typeof createActivities>;
