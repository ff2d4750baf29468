/**
 * The payload workflow: one per unique payload of a scan (the root and every extracted
 * payload), its workflow id derived from the scan id and the payload's SHA-256, so a
 * payload is scanned exactly once per scan however many times it is extracted.
 *
 * Within the payload: rounds of dispatch and workers until no worker is due, then the
 * destination archivers, then a record in the scan ledger, then the extracted payloads
 * as child workflows.
 */
import { CancellationScope, isCancellation, setHandler } from '@temporalio/workflow';
import type { StoqError } from '../model/schemas';
import {
  failureMessage,
  frameworkActivities,
  ledgerActivities,
  pluginActivities,
  shortId,
} from './calls';
import { scanExtracted } from './children';
import { pluginProblem, usablePlugins } from './plugins';
import { payloadProgressQuery } from './queries';
import { planRound } from './scheduling';
import type {
  ExtractionListing,
  PayloadRecord,
  PayloadWorkflowInput,
  PayloadWorkflowResult,
  PayloadProgress,
  PluginPlan,
  ScanPlan,
  WorkerInput,
} from './types';

interface PayloadState {
  input: PayloadWorkflowInput;
  plan: ScanPlan;
  /** Workers asked for so far, in order. */
  due: string[];
  done: Set<string>;
  workersRun: string[];
  archiversRun: string[];
  archivers: Record<string, unknown>;
  dispatchMeta: Record<string, Record<string, unknown>>;
  errors: StoqError[];
  listings: ExtractionListing[];
  /** Workers whose extractions were listed before a retry resumed this payload. */
  priorExtractors: string[];
  phase: PayloadProgress['phase'];
  /** Workers whose activities are under way. */
  running: string[];
}

export async function payloadWorkflow(input: PayloadWorkflowInput): Promise<PayloadWorkflowResult> {
  const plan = await ledgerActivities().loadPlan(input.scan_id);
  const state = input.resume ? await resumedState(input, plan) : initialState(input, plan);
  setHandler(payloadProgressQuery, () => progressOf(state));

  try {
    await scanAndArchive(state);
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // Cancelled (stoq cancel): keep what this payload has so far in the partial response.
    addError(state, 'scan cancelled');
    await CancellationScope.nonCancellable(() =>
      ledgerActivities().recordPayload(input.scan_id, toRecord(state)),
    );
    throw error;
  }
  await ledgerActivities().recordPayload(input.scan_id, toRecord(state));

  state.phase = 'extracting';
  const descendants = await scanExtracted(input, state.listings);
  state.phase = 'done';
  return { payload_id: input.payload.payload_id, payload_count: 1 + descendants };
}

async function scanAndArchive(state: PayloadState): Promise<void> {
  const { input, plan } = state;
  if (input.depth > plan.max_recursion) {
    addError(
      state,
      `max_recursion ${plan.max_recursion} reached: payload at extraction depth ${input.depth} not scanned`,
    );
  } else if (input.payload.payload_meta.should_scan) {
    await scanRounds(state);
  }

  state.phase = 'archiving';
  if (input.request_meta.archive_payloads && input.payload.payload_meta.should_archive) {
    await archive(state, input.resume ? input.resume.archivers : plan.dest_archivers);
  }
}

function initialState(input: PayloadWorkflowInput, plan: ScanPlan): PayloadState {
  const { payload } = input;
  const due = [
    ...(input.isRoot ? plan.start_dispatch : []),
    ...plan.always_dispatch,
    ...payload.payload_meta.dispatch_to,
  ];
  return {
    input,
    plan,
    due: [...new Set(due)],
    done: new Set(),
    workersRun: [],
    archiversRun: [],
    archivers: {},
    dispatchMeta: {},
    errors: [],
    listings: [],
    priorExtractors: [],
    phase: 'scanning',
    running: [],
  };
}

/**
 * A retry resumes a payload from its record: what succeeded stays as it was, and only the
 * plugins that failed are due again (their old error entries dropped).
 */
async function resumedState(input: PayloadWorkflowInput, plan: ScanPlan): Promise<PayloadState> {
  const resume = input.resume!;
  const record = await ledgerActivities().loadRecord(input.scan_id, input.payload.payload_id);
  const again = new Set([
    ...resume.workers,
    ...resume.archivers,
    ...(resume.dispatch ? plan.dispatchers : []),
  ]);
  const workersRun = record.plugins_run.workers.filter((name) => !resume.workers.includes(name));
  const archivers = Object.fromEntries(
    Object.entries(record.archivers).filter(([name]) => !resume.archivers.includes(name)),
  );

  const state = initialState(input, plan);
  state.due = [...resume.workers];
  state.done = new Set(workersRun);
  state.workersRun = workersRun;
  state.archiversRun = record.plugins_run.archivers.filter(
    (name) => !resume.archivers.includes(name),
  );
  state.archivers = archivers;
  state.dispatchMeta = record.dispatch_meta;
  state.errors = record.errors.filter(
    (error) => !error.plugin_name || !again.has(error.plugin_name),
  );
  state.priorExtractors = record.extracted_by_workers;
  return state;
}

/** stoQ's rounds: dispatchers, then every worker that may run, until none is due. */
async function scanRounds(state: PayloadState): Promise<void> {
  const { plan } = state;
  const pluginCount = Object.keys(plan.plugins).length;
  const resume = state.input.resume;
  const dispatchers = !resume || resume.dispatch ? usableDispatchers(state) : [];

  // Each round runs at least one new worker, so the plugin count bounds the rounds.
  for (let round = 0; round <= pluginCount; round++) {
    await dispatch(state, dispatchers);

    const next = planRound({
      due: state.due,
      done: state.done,
      requiredWorkers: (name) => workerPlan(state, name)?.requiredWorkers,
      maxDepth: plan.max_required_worker_depth,
    });
    for (const { worker, reason } of next.abandoned) {
      state.done.add(worker);
      addError(state, reason, worker);
    }
    if (next.runnable.length === 0) return;

    await Promise.all(next.runnable.map((worker) => runWorker(state, worker)));
  }
}

function workerPlan(state: PayloadState, name: string): PluginPlan | undefined {
  const plugin = state.plan.plugins[name];
  return plugin && plugin.kinds.includes('worker') ? plugin : undefined;
}

/** The configured dispatchers that can run; the others are recorded as errors once. */
function usableDispatchers(state: PayloadState): PluginPlan[] {
  return usablePlugins(state.plan, state.plan.dispatchers, 'dispatcher', (problem, name) =>
    addError(state, problem, name),
  );
}

async function dispatch(state: PayloadState, dispatchers: PluginPlan[]): Promise<void> {
  if (dispatchers.length === 0) return;
  const { input } = state;

  let outcome;
  try {
    outcome = await frameworkActivities(`dispatch ${label(input)}`).dispatchPayload({
      scan_id: input.scan_id,
      request_meta: input.request_meta,
      payload: input.payload,
      dispatchers,
      dispatch_meta: state.dispatchMeta,
      workers_run: state.workersRun,
    });
  } catch (error) {
    if (isCancellation(error)) throw error;
    addError(state, failureMessage(error), 'dispatch');
    return;
  }

  Object.assign(state.dispatchMeta, outcome.meta);
  // Dispatchers run every round, as in stoQ; a dispatcher failing each round is one error.
  for (const error of outcome.errors) {
    const known = state.errors.some(
      (e) => e.error === error.error && e.plugin_name === error.plugin_name,
    );
    if (!known) state.errors.push(error);
  }
  for (const names of Object.values(outcome.dispatched)) askFor(state, names);
}

async function runWorker(state: PayloadState, worker: string): Promise<void> {
  const { input } = state;
  const plugin = state.plan.plugins[worker];
  state.done.add(worker);
  if (plugin.invalid) {
    addError(state, plugin.invalid, worker);
    return;
  }

  state.running.push(worker);
  try {
    const activities = pluginActivities(plugin, `${worker} on ${label(input)}`);
    const outcome = await activities.runWorker(pluginCall(state, plugin));
    state.errors.push(...outcome.errors);
    if (outcome.extracted) state.listings.push(outcome.extracted);
    askFor(state, outcome.dispatch_to);
  } catch (error) {
    if (isCancellation(error)) throw error;
    addError(state, failureMessage(error), worker);
  } finally {
    state.running = state.running.filter((name) => name !== worker);
  }
  state.workersRun.push(worker);
}

async function archive(state: PayloadState, names: readonly string[]): Promise<void> {
  const { input } = state;
  for (const name of names) {
    const problem = pluginProblem(state.plan, name, 'archiver');
    if (problem) {
      addError(state, problem, name);
      continue;
    }
    const plugin = state.plan.plugins[name];
    try {
      const activities = pluginActivities(plugin, `archive ${label(input)} with ${name}`);
      const outcome = await activities.archivePayload(pluginCall(state, plugin));
      state.errors.push(...outcome.errors);
      if (outcome.results) state.archivers[name] = outcome.results;
    } catch (error) {
      if (isCancellation(error)) throw error;
      addError(state, failureMessage(error), name);
    }
    state.archiversRun.push(name);
  }
}

/** The progress query's answer, read off the state as it is. */
function progressOf(state: PayloadState): PayloadProgress {
  return {
    payload_id: state.input.payload.payload_id,
    phase: state.phase,
    workers_run: [...state.workersRun],
    running: [...state.running],
    extracted: state.listings.reduce((sum, listing) => sum + listing.count, 0),
  };
}

/** What a worker or archiver activity is told: the payload, the plugin, the state so far. */
function pluginCall(state: PayloadState, plugin: PluginPlan): WorkerInput {
  const { input } = state;
  return {
    scan_id: input.scan_id,
    request_meta: input.request_meta,
    payload: input.payload,
    plugin,
    dispatch_meta: state.dispatchMeta,
    workers_run: state.workersRun,
  };
}

function askFor(state: PayloadState, names: readonly string[]): void {
  for (const name of names) if (!state.due.includes(name)) state.due.push(name);
}

function addError(state: PayloadState, error: string, pluginName: string | null = null): void {
  state.errors.push({ error, plugin_name: pluginName, payload_id: state.input.payload.payload_id });
}

function label(input: PayloadWorkflowInput): string {
  const filename = input.payload.payload_meta.extra_data.filename;
  const name = typeof filename === 'string' ? ` (${filename.slice(0, 60)})` : '';
  return `payload ${shortId(input.payload.payload_id)}${name}`;
}

function toRecord(state: PayloadState): PayloadRecord {
  const { input } = state;
  return {
    payload_id: input.payload.payload_id,
    sha256: input.payload.sha256,
    size: input.payload.size,
    depth: input.depth,
    order: input.order,
    payload_meta: input.payload.payload_meta,
    dispatch_meta: state.dispatchMeta,
    plugins_run: { workers: state.workersRun, archivers: state.archiversRun },
    archivers: state.archivers,
    errors: state.errors,
    extracted_by_workers: [
      ...new Set([...state.priorExtractors, ...state.listings.map((listing) => listing.worker)]),
    ],
  };
}
