/** Small pieces every command shares. */
import type { AppFlags } from '../../app/context';

export function appFlagsOf(flags: {
  configFile?: string;
  pluginDir?: string[];
  logLevel?: AppFlags['logLevel'];
}): AppFlags {
  return { configFile: flags.configFile, pluginDirs: flags.pluginDir, logLevel: flags.logLevel };
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
export function untilStopSignal(
  onSignal?: (signal: NodeJS.Signals) => void,
): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) process.exit(130);
      received = true;
      onSignal?.(signal);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
