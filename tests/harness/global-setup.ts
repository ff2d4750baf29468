/** Jest global setup of the integration project: one Temporal server for the whole run. */
import { Connection } from '@temporalio/client';
import { registerSearchAttributes } from '../../src/temporal/search-attributes';
import { ADDRESS_ENV, provideServer, type ProvidedServer } from './server';

/** Where the setup leaves the server for the teardown (both run in jest's parent process). */
export interface HarnessGlobal {
  __stoqTemporalServer?: ProvidedServer;
}

export default async function globalSetup(): Promise<void> {
  const server = await provideServer();
  await registerStoqSearchAttributes(server.address);

  // Test files run in this process (--runInBand) or in workers forked after this point:
  // either way they inherit the variable.
  process.env[ADDRESS_ENV] = server.address;
  (globalThis as HarnessGlobal).__stoqTemporalServer = server;
  process.stderr.write(`\ntemporal for tests: ${server.address} from ${server.source}\n`);
}

/** Scans index themselves with stoQ's search attributes, as on a `stoq setup` cluster. */
async function registerStoqSearchAttributes(address: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await registerSearchAttributes(connection, 'default');
  } finally {
    await connection.close();
  }
}
