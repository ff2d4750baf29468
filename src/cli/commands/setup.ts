/**
 * `stoq setup`: prepares the configured server's namespace for stoQ, as the local dev server
 * prepares itself at every start: stoQ's search attributes and the history retention.
 * Running it again changes nothing that is already right.
 */
import { loadAppContext } from '../../app/context';
import { STOQ_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { registerSearchAttributes } from '../../temporal/search-attributes';
import { InfraError } from '../errors';
import { setRetention } from '../local-server';
import { parseFlags, setupFlagsSchema } from '../options';
import { printLine } from '../output';
import { CLIENT_ONLY, openSession } from '../session';
import { appFlagsOf } from './common';

export async function setupCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(setupFlagsSchema, raw);
  const ctx = loadAppContext(appFlagsOf(flags));
  const days = ctx.config.temporal.history_retention_days;

  const session = await openSession(ctx, flags, CLIENT_ONLY);
  const namespace = session.settings.namespace;
  try {
    await printLine(`server     ${session.address}, namespace ${namespace}`);

    const added = await step('register the search attributes', () =>
      registerSearchAttributes(session.connection, namespace),
    );
    await printLine(
      added.length > 0
        ? `search attributes registered: ${added.join(', ')}`
        : `search attributes: all ${STOQ_SEARCH_ATTRIBUTES.length} already registered`,
    );

    const changed = await step('set the history retention', () =>
      setRetention(session.connection, namespace, days),
    );
    await printLine(
      changed ? `history retention set to ${days} days` : `history retention already ${days} days`,
    );
  } finally {
    await session.close();
  }
}

/** A refused operator call (no permission, Temporal Cloud) says which step and why. */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const reason = (error as Error).message?.split('\n')[0] ?? String(error);
    throw new InfraError(`could not ${what}: ${reason}`, { cause: error });
  }
}
