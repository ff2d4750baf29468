/**
 * The determinism guard: recorded histories of representative scans
 * (tests/fixtures/histories, written by scripts/record-histories.ts) replay against the
 * current workflow code. A change that would break scans in flight on a rolling upgrade
 * fails here; docs/versioning.md says what to do then.
 *
 * Needs no server: replay runs the workflow code against the recorded events only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { HistoryManifest } from '../../scripts/record-histories';
import { createLogger } from '../../src/log';
import { installSdkLogging } from '../../src/temporal/sdk-logging';
import { historyFromJson } from '../harness/history-json';
import { workflowBundlePath } from '../harness/stoq';

const HISTORIES_DIR = join(__dirname, '..', 'fixtures', 'histories');
const MUTANT_WORKFLOWS = join(__dirname, '..', 'fixtures', 'replay-mutant', 'index.ts');

/** The scenarios the recorder writes; a missing one means the fixtures are incomplete. */
const SCENARIOS = [
  'plain-multi',
  'nested-duplicates',
  'retry-and-failure',
  'wide-fanout',
  'cancelled',
];

/**
 * Every recorded directory: the current recordings, and older ones kept as
 * `<scenario>@<label>` while scans they stand for may still be in flight.
 */
const RECORDED = existsSync(HISTORIES_DIR)
  ? readdirSync(HISTORIES_DIR)
      .filter((name) => existsSync(join(HISTORIES_DIR, name, 'manifest.json')))
      .sort()
  : [];

interface Fixture {
  scenario: string;
  file: string;
  workflowId: string;
  workflowType: string;
}

function readManifest(scenario: string): HistoryManifest {
  return JSON.parse(
    readFileSync(join(HISTORIES_DIR, scenario, 'manifest.json'), 'utf8'),
  ) as HistoryManifest;
}

function fixturesOf(scenario: string): Fixture[] {
  return readManifest(scenario).workflows.map((workflow) => ({
    scenario,
    file: workflow.file,
    workflowId: workflow.workflow_id,
    workflowType: workflow.workflow_type,
  }));
}

function loadHistory(fixture: Fixture) {
  return historyFromJson(
    JSON.parse(readFileSync(join(HISTORIES_DIR, fixture.scenario, fixture.file), 'utf8')),
  );
}

/** Replays the fixtures in one replay worker; one line per history that failed. */
async function replay(options: ReplayWorkerOptions, fixtures: Fixture[]): Promise<string[]> {
  const histories = fixtures.map((fixture) => ({
    workflowId: fixture.workflowId,
    history: loadHistory(fixture),
  }));
  const failures: string[] = [];
  let replayed = 0;

  for await (const result of Worker.runReplayHistories(options, histories)) {
    const fixture = fixtures[replayed++];
    if (result.error) {
      failures.push(
        `${fixture.scenario}/${fixture.file}: ${fixture.workflowType} ${result.workflowId}: ` +
          `${result.error.name}: ${result.error.message}`,
      );
    }
  }
  if (replayed !== fixtures.length) {
    failures.push(`only ${replayed} of ${fixtures.length} histories replayed`);
  }
  return failures;
}

let current: ReplayWorkerOptions;

beforeAll(async () => {
  // Each replay worker logs its start and stop; keep the SDK's lines to warnings and up.
  const level = (process.env.STOQ_TEST_LOG_LEVEL as 'info' | undefined) ?? 'warn';
  installSdkLogging(createLogger({ level, pretty: false }));
  current = {
    workflowBundle: { codePath: await workflowBundlePath() },
    replayName: 'stoq-replay-guard',
  };
});

test('fixtures exist for every scenario, with every workflow type', () => {
  expect(RECORDED).toEqual(expect.arrayContaining(SCENARIOS));

  const types = new Set(SCENARIOS.flatMap(fixturesOf).map((fixture) => fixture.workflowType));
  expect([...types].sort()).toEqual(['fanoutWorkflow', 'payloadWorkflow', 'scanWorkflow']);
});

describe('recorded scans replay against the current workflow code', () => {
  test.each(RECORDED)('%s', async (scenario) => {
    const fixtures = fixturesOf(scenario);
    expect(fixtures.length).toBeGreaterThan(0);

    const failures = await replay(current, fixtures);
    if (failures.length > 0) {
      throw new Error(
        `replay of scenario ${scenario} failed for ${failures.length} of ${fixtures.length} workflows ` +
          `(a breaking workflow change: version it, see docs/versioning.md):\n  ${failures.join('\n  ')}`,
      );
    }
  });
});

describe('the guard itself', () => {
  let mutant: ReplayWorkerOptions;

  beforeAll(async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: MUTANT_WORKFLOWS,
      logger: quietBundlerLogger,
    });
    mutant = { workflowBundle: { code: bundle.code }, replayName: 'stoq-replay-mutant' };
  });

  test('an unversioned new first step in scanWorkflow fails replay with a determinism violation', async () => {
    const [scan] = fixturesOf('plain-multi').filter(
      (fixture) => fixture.workflowType === 'scanWorkflow',
    );

    const error = await Worker.runReplayHistory(mutant, loadHistory(scan), scan.workflowId).then(
      () => undefined,
      (failure: unknown) => failure,
    );

    expect(error).toBeInstanceOf(DeterminismViolationError);
    // The one line replay() would report for it names the scenario and workflow id.
    const failures = await replay(mutant, [scan]);
    expect(failures).toEqual([
      expect.stringContaining(`plain-multi/scanWorkflow-0.json: scanWorkflow ${scan.workflowId}`),
    ]);
  });

  test('the same step behind patched() replays recorded payload workflows', async () => {
    const payloads = fixturesOf('nested-duplicates').filter(
      (fixture) => fixture.workflowType === 'payloadWorkflow',
    );
    expect(payloads.length).toBeGreaterThan(1);

    expect(await replay(mutant, payloads)).toEqual([]);
  });
});

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
