/**
 * The embedded default: no server configured. `stoq scan` starts a dev server persisting under
 * the stoQ home (on another port when the local one is held by something that is not
 * Temporal), scans, and leaves the history; `stoq server` reopens that history with the Web UI
 * and the retention stoQ asks for, and a later scan uses that running server.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { stoqResponseSchema } from '../../src/model/schemas';
import { findTemporalBinary, freePort, startDevServer } from '../../src/temporal/dev-server';
import { cliEnv, requireBuiltCli, runCli, startCli } from '../harness/cli';

let home: string;
let squatter: Server;
let squatted: number;
const sockets = new Set<Socket>();

beforeAll(async () => {
  requireBuiltCli();
  home = mkdtempSync(join(tmpdir(), 'stoq-cli-embedded-'));
  // Something that is not Temporal holds the "local" port.
  squatted = await freePort();
  squatter = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.end('not temporal\n');
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => squatter.listen(squatted, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => squatter.close(() => resolve()));
  rmSync(home, { recursive: true, force: true });
});

test('scan with no server starts one, falls back from a busy port, and the history outlives it', async () => {
  const file = join(home, 'sample.txt');
  writeFileSync(file, 'embedded default sample\n');
  writeFileSync(join(home, 'stoq.cfg'), '[temporal]\nhistory_retention_days = 7\n');
  const env = cliEnv({ STOQ_HOME: home, STOQ_LOCAL_TEMPORAL_PORT: String(squatted) });

  const scanned = await runCli(['scan', file], { env });

  expect(scanned.code).toBe(0);
  expect(scanned.stderr).toMatch(/not Temporal; using another port/);
  const first = stoqResponseSchema.parse(JSON.parse(scanned.stdout));
  expect(existsSync(join(home, 'temporal', 'temporal.db'))).toBe(true);

  // `stoq server` on the same database (created with 7 days) sets the default 30 days.
  rmSync(join(home, 'stoq.cfg'));
  const port = await freePort();
  const uiPort = await freePort();
  const serverEnv = cliEnv({ STOQ_HOME: home, STOQ_LOCAL_TEMPORAL_PORT: String(port) });
  const server = startCli(['server', '--ui-port', String(uiPort)], { env: serverEnv });
  try {
    await server.waitFor('Web UI:');

    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      const namespace = await connection.workflowService.describeNamespace({
        namespace: 'default',
      });
      expect(Number(namespace.config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 24 * 3600);
      const history = await connection.workflowService.describeWorkflowExecution({
        namespace: 'default',
        execution: { workflowId: first.scan_id },
      });
      expect(history.workflowExecutionInfo?.status).toBe(2); // COMPLETED
    } finally {
      await connection.close();
    }

    // A scan now finds the running server instead of starting one, and `show` reads it back.
    const second = await runCli(['scan', '-'], { env: serverEnv, input: 'second sample' });
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/temporal dev server ready/);
    const shown = await runCli(['show', first.scan_id], { env: serverEnv });
    expect(JSON.parse(shown.stdout)).toEqual(first);
  } finally {
    server.kill('SIGTERM');
    const stopped = await server.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(new RegExp(`^Temporal server: 127\\.0\\.0\\.1:${port}$`, 'm'));
    expect(stopped.stdout).toMatch(new RegExp(`^Web UI: +http://127\\.0\\.0\\.1:${uiPort}$`, 'm'));
  }
});

test('two embedded scans started at once on one stoQ home both complete, one after the other', async () => {
  const shared = mkdtempSync(join(tmpdir(), 'stoq-cli-embedded-pair-'));
  try {
    const port = await freePort();
    const env = cliEnv({ STOQ_HOME: shared, STOQ_LOCAL_TEMPORAL_PORT: String(port) });
    const files = ['first.txt', 'second.txt'].map((name) => {
      const file = join(shared, name);
      writeFileSync(file, `${name} content\n`);
      return file;
    });

    const [a, b] = await Promise.all(files.map((file) => runCli(['scan', file], { env })));

    expect([a.code, b.code]).toEqual([0, 0]);
    const names = [a, b].map(
      (run) =>
        stoqResponseSchema.parse(JSON.parse(run.stdout)).results[0].payload_meta.extra_data
          .filename,
    );
    expect(names.sort()).toEqual(['first.txt', 'second.txt']);
    expect(existsSync(join(shared, 'temporal', 'embedded.lock'))).toBe(false);
  } finally {
    rmSync(shared, { recursive: true, force: true });
  }
});

test('an embedded scan on a database file created before stoQ search attributes registers them', async () => {
  const old = mkdtempSync(join(tmpdir(), 'stoq-cli-embedded-old-'));
  const binaryPath = findTemporalBinary()!;
  const dbFilename = join(old, 'temporal', 'temporal.db');
  mkdirSync(join(old, 'temporal'), { recursive: true });
  try {
    // A database made by a plain dev server: no stoQ search attributes in it.
    const plain = await startDevServer({ binaryPath, dbFilename, headless: true });
    await plain.stop();

    const file = join(old, 'old-db.txt');
    writeFileSync(file, 'scanned on an old database\n');
    const port = await freePort();
    const env = cliEnv({ STOQ_HOME: old, STOQ_LOCAL_TEMPORAL_PORT: String(port) });
    const scanned = await runCli(['scan', file], { env });
    expect(scanned.code).toBe(0);
    const { scan_id: scanId } = stoqResponseSchema.parse(JSON.parse(scanned.stdout));

    const reopened = await startDevServer({ binaryPath, dbFilename, headless: true });
    const connection = await Connection.connect({ address: reopened.address });
    try {
      const attributes = await connection.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      expect(Object.keys(attributes.customAttributes ?? {})).toEqual(
        expect.arrayContaining(['StoqSha256', 'StoqScanId', 'StoqHasErrors', 'StoqPayloadCount']),
      );
      const sha = createHash('sha256').update('scanned on an old database\n').digest('hex');
      const found = await connection.workflowService.listWorkflowExecutions({
        namespace: 'default',
        query: `StoqSha256 = '${sha}' AND WorkflowType = 'scanWorkflow'`,
      });
      expect(found.executions.map((execution) => execution.execution?.workflowId)).toEqual([
        scanId,
      ]);
    } finally {
      await connection.close();
      await reopened.stop();
    }
  } finally {
    rmSync(old, { recursive: true, force: true });
  }
});
