/** Jest global setup of the integration project: one Temporal server for the whole run. */
import { ADDRESS_ENV, provideServer, type ProvidedServer } from './server';

/** Where the setup leaves the server for the teardown (both run in jest's parent process). */
export interface HarnessGlobal {
  __stoqTemporalServer?: ProvidedServer;
}

export default async function globalSetup(): Promise<void> {
  const server = await provideServer();

  // Test files run in this process (--runInBand) or in workers forked after this point:
  // either way they inherit the variable.
  process.env[ADDRESS_ENV] = server.address;
  (globalThis as HarnessGlobal).__stoqTemporalServer = server;
  process.stderr.write(`\ntemporal for tests: ${server.address} from ${server.source}\n`);
}
