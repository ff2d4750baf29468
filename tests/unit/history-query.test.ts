import {
  parseTimeBound,
  quoteValue,
  scanIdOf,
  scanQuery,
  sha256Query,
} from '../../src/client/history';
import { ConfigError } from '../../src/config/errors';
import { historyFlagsSchema, parseFlags } from '../../src/cli/options';
import { TypedSearchAttributes } from '@temporalio/common';
import { StoqScanId } from '../../src/workflows/search-attributes';

test('values are quoted so that no value can close the literal or add a clause', () => {
  expect(quoteValue('report.pdf')).toBe("'report.pdf'");
  expect(quoteValue("o'brien.txt")).toBe("'o''brien.txt'");
  expect(quoteValue("x' OR WorkflowType = 'payloadWorkflow")).toBe(
    "'x'' OR WorkflowType = ''payloadWorkflow'",
  );
  expect(quoteValue('back\\slash\\')).toBe("'back\\\\slash\\\\'");
});

test('the scan query combines every filter with AND, on scan workflows only', () => {
  const query = scanQuery({
    filename: "a'b.zip",
    source: 'mailgw',
    hasErrors: false,
    since: new Date('2025-01-02T03:04:05Z'),
    until: new Date('2025-02-01T00:00:00Z'),
    worker: 'yara',
    yaraRule: 'Suspicious_Macro',
    status: 'cancelled',
  });
  expect(query).toBe(
    "WorkflowType = 'scanWorkflow' AND StoqFilename = 'a''b.zip' AND StoqSource = 'mailgw' " +
      "AND StoqHasErrors = false AND StartTime >= '2025-01-02T03:04:05.000Z' " +
      "AND StartTime <= '2025-02-01T00:00:00.000Z' AND StoqWorkers = 'yara' " +
      "AND StoqYaraRules = 'Suspicious_Macro' AND ExecutionStatus = 'Canceled'",
  );
  expect(scanQuery({})).toBe("WorkflowType = 'scanWorkflow'");
  expect(scanQuery({ hasErrors: true, status: 'running' })).toBe(
    "WorkflowType = 'scanWorkflow' AND StoqHasErrors = true AND ExecutionStatus = 'Running'",
  );
});

test('a hash search hands its scan ids to the scan query and matches scans and payloads alike', () => {
  const hash = 'AB'.repeat(32);
  expect(sha256Query(hash)).toBe(`StoqSha256 = '${'ab'.repeat(32)}'`);
  expect(scanQuery({ source: 's' }, ['scan-1', "scan'2"])).toBe(
    "WorkflowType = 'scanWorkflow' AND WorkflowId IN ('scan-1', 'scan''2') AND StoqSource = 's'",
  );
});

test('long file names are cut as the workflows cut them before indexing', () => {
  const name = 'n'.repeat(300);
  expect(scanQuery({ filename: name })).toBe(
    `WorkflowType = 'scanWorkflow' AND StoqFilename = '${'n'.repeat(200)}'`,
  );
});

test('payload workflows map back to their scan, by attribute or by workflow id', () => {
  const none = new TypedSearchAttributes();
  const withScan = new TypedSearchAttributes([{ key: StoqScanId, value: 'scan-a' }]);
  expect(
    scanIdOf({ workflowId: 'scan-a', type: 'scanWorkflow', typedSearchAttributes: none }),
  ).toBe('scan-a');
  expect(
    scanIdOf({
      workflowId: 'x/payload/ff',
      type: 'payloadWorkflow',
      typedSearchAttributes: withScan,
    }),
  ).toBe('scan-a');
  expect(
    scanIdOf({
      workflowId: 'scan-b/payload/ff',
      type: 'payloadWorkflow',
      typedSearchAttributes: none,
    }),
  ).toBe('scan-b');
});

test('time bounds take ISO times and durations back from now, and nothing else', () => {
  const now = new Date('2025-06-10T12:00:00Z');
  expect(parseTimeBound('24h', now)).toEqual(new Date('2025-06-09T12:00:00Z'));
  expect(parseTimeBound('7d', now)).toEqual(new Date('2025-06-03T12:00:00Z'));
  expect(parseTimeBound('90m', now)).toEqual(new Date('2025-06-10T10:30:00Z'));
  expect(parseTimeBound('2025-05-01', now)).toEqual(new Date('2025-05-01T00:00:00Z'));
  expect(parseTimeBound('2025-05-01T08:00:00+02:00', now)).toEqual(
    new Date('2025-05-01T06:00:00Z'),
  );
  for (const bad of ['yesterday', '24', 'h', '-1d', '2025-13-45', '1y']) {
    expect(parseTimeBound(bad, now)).toBeUndefined();
  }
});

test('history flags are validated and named in the error', () => {
  expect(() => parseFlags(historyFlagsSchema, { sha256: 'abc' })).toThrow(ConfigError);
  expect(() => parseFlags(historyFlagsSchema, { sha256: 'abc' })).toThrow(
    /^--sha256: expected 64 hex digits/,
  );
  expect(() => parseFlags(historyFlagsSchema, { limit: '0' })).toThrow(/^--limit: /);
  expect(() => parseFlags(historyFlagsSchema, { status: 'lost' })).toThrow(
    /^--status: expected one of/,
  );
  expect(() => parseFlags(historyFlagsSchema, { until: 'soon' })).toThrow(/^--until: /);

  const flags = parseFlags(historyFlagsSchema, { sha256: 'AB'.repeat(32), since: '1h' });
  expect(flags.sha256).toBe('ab'.repeat(32));
  expect(flags.limit).toBe(50);
  expect(flags.since).toBeInstanceOf(Date);
});
