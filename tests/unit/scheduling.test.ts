import { planRound } from '../../src/workflows/scheduling';

const requirements: Record<string, string[]> = {
  hash: [],
  yara: [],
  peinfo: ['hash'],
  report: ['peinfo', 'yara'],
  loop_a: ['loop_b'],
  loop_b: ['loop_a'],
  needs_ghost: ['ghost'],
};
const required = (name: string) => requirements[name];

test('workers with no requirements all run in the first round', () => {
  expect(
    planRound({ due: ['hash', 'yara'], done: new Set(), requiredWorkers: required, maxDepth: 10 }),
  ).toEqual({
    runnable: ['hash', 'yara'],
    abandoned: [],
  });
});

test('a required worker that nobody asked for is scheduled first; the dependent waits', () => {
  const first = planRound({
    due: ['report'],
    done: new Set(),
    requiredWorkers: required,
    maxDepth: 10,
  });
  expect(first.runnable).toEqual(['hash', 'yara']);

  const second = planRound({
    due: ['report'],
    done: new Set(['hash', 'yara']),
    requiredWorkers: required,
    maxDepth: 10,
  });
  expect(second.runnable).toEqual(['peinfo']);

  const third = planRound({
    due: ['report'],
    done: new Set(['hash', 'yara', 'peinfo']),
    requiredWorkers: required,
    maxDepth: 10,
  });
  expect(third.runnable).toEqual(['report']);
});

test('workers already done are not scheduled again', () => {
  expect(
    planRound({
      due: ['hash', 'hash'],
      done: new Set(['hash']),
      requiredWorkers: required,
      maxDepth: 10,
    }).runnable,
  ).toEqual([]);
});

test('a circular requirement abandons the worker with the cycle spelled out', () => {
  const plan = planRound({
    due: ['loop_a', 'hash'],
    done: new Set(),
    requiredWorkers: required,
    maxDepth: 10,
  });
  expect(plan.runnable).toEqual(['hash']);
  expect(plan.abandoned).toEqual([
    { worker: 'loop_a', reason: 'circular required_workers: loop_a -> loop_b -> loop_a' },
  ]);
});

test('a chain deeper than the maximum is abandoned, never waited on', () => {
  const plan = planRound({
    due: ['report'],
    done: new Set(),
    requiredWorkers: required,
    maxDepth: 1,
  });
  expect(plan.runnable).toEqual([]);
  expect(plan.abandoned[0].reason).toMatch(
    /deeper than max_required_worker_depth 1: report -> peinfo -> hash/,
  );
});

test('unknown workers and unknown requirements are abandoned with a reason', () => {
  const plan = planRound({
    due: ['nope', 'needs_ghost'],
    done: new Set(),
    requiredWorkers: required,
    maxDepth: 10,
  });
  expect(plan.abandoned).toEqual([
    { worker: 'nope', reason: 'unknown plugin "nope"' },
    { worker: 'needs_ghost', reason: 'unknown required worker "ghost" (required by needs_ghost)' },
  ]);
});
