/**
 * `stoq server`: the local Temporal dev server, persisting under the stoQ home, with the Web
 * UI. Runs until SIGINT/SIGTERM. `stoq scan` with no address configured uses it.
 */
import { loadAppContext } from '../../app/context';
import { InfraError } from '../errors';
import {
  DEFAULT_UI_PORT,
  LOCAL_HOST,
  localDbFile,
  localPort,
  probePort,
  startLocalServer,
} from '../local-server';
import { parseFlags, serverFlagsSchema } from '../options';
import { printLine } from '../output';
import { appFlagsOf, untilStopSignal } from './common';

export async function serverCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(serverFlagsSchema, raw);
  const ctx = loadAppContext(appFlagsOf(flags));
  const port = flags.port ?? localPort();
  const namespace = flags.namespace ?? ctx.config.temporal.namespace;

  if ((await probePort(flags.ip ?? LOCAL_HOST, port, namespace)) !== 'free') {
    throw new InfraError(
      `port ${port} is already in use (is a \`stoq server\` running?); choose another with --port`,
    );
  }
  const server = await startLocalServer({
    home: ctx.home,
    namespace,
    port,
    uiPort: flags.headless ? undefined : (flags.uiPort ?? DEFAULT_UI_PORT),
    ip: flags.ip,
    retentionDays: ctx.config.temporal.history_retention_days,
    logger: ctx.logger,
  });

  await printLine(`Temporal server: ${server.address}`);
  if (server.uiAddress) await printLine(`Web UI:          ${server.uiAddress}`);
  await printLine(
    `Namespace:       ${namespace} (history kept ${ctx.config.temporal.history_retention_days} days)`,
  );
  await printLine(`Database:        ${localDbFile(ctx.home)}`);

  // The dev server's process handles are unref'd; this timer keeps us alive until a signal.
  const alive = setInterval(() => {}, 1 << 30);
  const exited = new Promise<string>((resolve) =>
    server.process.once('exit', (code, signal) => resolve(`${signal ?? `code ${code}`}`)),
  );
  try {
    const outcome = await Promise.race([
      untilStopSignal().then(() => 'signal'),
      exited.then((how) => `exit:${how}`),
    ]);
    if (outcome.startsWith('exit:'))
      throw new InfraError(`the Temporal dev server stopped unexpectedly (${outcome.slice(5)})`);
  } finally {
    clearInterval(alive);
    await server.stop();
  }
}
