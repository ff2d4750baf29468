/** `stoq codec-server`: decodes stoQ's payloads for the Web UI and the temporal CLI. */
import { loadAppContext } from '../../app/context';
import { runCodecServerCommand } from '../../temporal/codec-server';
import { codecServerFlagsSchema, parseFlags } from '../options';
import { appFlagsOf } from './common';

export async function codecServerCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(codecServerFlagsSchema, raw);
  const ctx = loadAppContext(appFlagsOf(flags));

  await runCodecServerCommand({
    codecConfig: ctx.config.codec,
    baseDir: ctx.home,
    port: flags.port,
    host: flags.host,
    allowedOrigins: flags.allowedOrigin,
    authToken: flags.authToken,
    logger: ctx.logger,
  });
}
