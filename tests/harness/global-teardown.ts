/** Jest global teardown of the integration project: stops the server the setup provided. */
import type { HarnessGlobal } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as HarnessGlobal;
  const server = holder.__stoqTemporalServer;
  holder.__stoqTemporalServer = undefined;
  await server?.stop();
}
