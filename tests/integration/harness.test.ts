import { Client, type Connection } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { newConnection, newNativeConnection, testAddress, uniqueId } from '../harness/temporal';
import type { EchoActivities } from '../harness/workflows/echo';

// Bundling the workflow code takes a few seconds on a small machine.
const WORKFLOW_TEST_TIMEOUT_MS = 60_000;

describe('the integration harness', () => {
  let connection: Connection;
  let workerConnection: NativeConnection;

  beforeAll(async () => {
    connection = await newConnection();
    workerConnection = await newNativeConnection();
  });

  afterAll(async () => {
    await workerConnection?.close();
    await connection?.close();
  });

  /** A worker for the echo workflow whose activity records what it was given. */
  function echoWorker(taskQueue: string, seen: string[]): Promise<Worker> {
    const activities: EchoActivities = {
      shout: async (text) => {
        seen.push(text);
        return text.toUpperCase();
      },
    };
    return Worker.create({
      connection: workerConnection,
      taskQueue,
      workflowsPath: require.resolve('../harness/workflows/echo'),
      activities,
    });
  }

  it(
    'runs a workflow and its activity on a real worker against the shared server',
    async () => {
      const taskQueue = uniqueId('harness');
      const seen: string[] = [];
      const worker = await echoWorker(taskQueue, seen);
      const client = new Client({ connection });

      const handle = await client.workflow.start('echo', {
        args: ['hello payload'],
        taskQueue,
        workflowId: uniqueId('echo'),
      });
      const result = await worker.runUntil(handle.result());

      expect(result).toBe('HELLO PAYLOAD');
      expect(seen).toEqual(['hello payload']);
      const { events } = await handle.fetchHistory();
      const activityTypes = events
        ?.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
        .filter((name) => name !== undefined);
      expect(activityTypes).toEqual(['shout']);
    },
    WORKFLOW_TEST_TIMEOUT_MS,
  );

  it('gives a fresh id on every call', () => {
    const ids = new Set(Array.from({ length: 100 }, () => uniqueId('scan')));

    expect(ids.size).toBe(100);
    expect([...ids].every((id) => id.startsWith('scan-'))).toBe(true);
  });

  it('says how to get a server when the address is missing', () => {
    const saved = process.env.STOQ_TEST_TEMPORAL_ADDRESS;
    delete process.env.STOQ_TEST_TEMPORAL_ADDRESS;

    try {
      expect(() => testAddress()).toThrow(/STOQ_TEST_TEMPORAL_ADDRESS is not set/);
    } finally {
      process.env.STOQ_TEST_TEMPORAL_ADDRESS = saved;
    }
  });
});
