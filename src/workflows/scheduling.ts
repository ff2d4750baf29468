/**
 * Which workers may run on a payload in the next round.
 *
 * A worker is due when something asked for it (start/always dispatch, a dispatcher, a
 * worker's `dispatch_to`, the payload's meta). It may run once every worker it requires
 * has run on the same payload; a required worker that nobody asked for becomes due by
 * being required. A circular requirement, a chain deeper than
 * `max_required_worker_depth`, or a requirement on an unknown worker makes the worker
 * unrunnable: it is reported, never waited on, so a scan cannot hang on it.
 *
 * Pure and deterministic: used by workflow code.
 */

export interface RoundInput {
  /** Workers asked for so far, in the order they were asked for. */
  due: readonly string[];
  /** Workers that already ran (or were abandoned) on this payload. */
  done: ReadonlySet<string>;
  /** A worker's requirements, or undefined when no such worker is known. */
  requiredWorkers: (name: string) => readonly string[] | undefined;
  maxDepth: number;
}

export interface RoundPlan {
  /** Workers to run now, in parallel. */
  runnable: string[];
  /** Workers that can never run, with the reason. */
  abandoned: { worker: string; reason: string }[];
}

class Unrunnable extends Error {}

export function planRound(input: RoundInput): RoundPlan {
  const runnable: string[] = [];
  const abandoned: RoundPlan['abandoned'] = [];
  const seen = new Set<string>();

  for (const worker of input.due) {
    if (seen.has(worker) || input.done.has(worker)) continue;
    seen.add(worker);

    // Collect into a scratch list so an abandoned worker schedules none of its requirements.
    const ready: string[] = [];
    try {
      collectReady(worker, [], input, ready);
      for (const name of ready) if (!runnable.includes(name)) runnable.push(name);
    } catch (error) {
      if (!(error instanceof Unrunnable)) throw error;
      abandoned.push({ worker, reason: error.message });
    }
  }

  return { runnable, abandoned };
}

/** Adds `worker` (or the requirements it waits on) to `ready`; true when `worker` itself is done. */
function collectReady(
  worker: string,
  chain: string[],
  input: RoundInput,
  ready: string[],
): boolean {
  if (input.done.has(worker)) return true;
  if (chain.includes(worker)) {
    throw new Unrunnable(`circular required_workers: ${[...chain, worker].join(' -> ')}`);
  }
  if (chain.length > input.maxDepth) {
    throw new Unrunnable(
      `required_workers chain deeper than max_required_worker_depth ${input.maxDepth}: ` +
        [...chain, worker].join(' -> '),
    );
  }

  const required = input.requiredWorkers(worker);
  if (required === undefined) {
    const what = chain.length === 0 ? 'unknown plugin' : 'unknown required worker';
    throw new Unrunnable(
      `${what} "${worker}"${chain.length ? ` (required by ${chain.at(-1)})` : ''}`,
    );
  }

  const pending = required.filter((name) => !collectReady(name, [...chain, worker], input, ready));
  if (pending.length === 0 && !ready.includes(worker)) ready.push(worker);
  return false;
}
