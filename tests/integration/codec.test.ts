import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client, type Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import {
  codecConfigSchema,
  dataConverterFor,
  ENCODING_ENCRYPTED,
  METADATA_COMPRESSION,
  METADATA_KEY_ID,
} from '../../src/temporal/codec';
import { startCodecServer } from '../../src/temporal/codec-server';
import { findTemporalBinary } from '../../src/temporal/dev-server';
import { newConnection, newNativeConnection, testAddress, uniqueId } from '../harness/temporal';
import type { EchoActivities } from '../harness/workflows/echo';

const temporalCli = findTemporalBinary();
// The CLI test needs the `temporal` binary; a harness on TEMPORAL_ADDRESS may have none.
const withCli = temporalCli ? it : it.skip;

// Bundling the workflow code takes a few seconds on a small machine.
const WORKFLOW_TEST_TIMEOUT_MS = 60_000;

function text(bytes: Uint8Array | null | undefined): string {
  return Buffer.from(bytes ?? []).toString('utf8');
}

/** The workflow input of `temporal workflow show --output json`, whose bytes are base64. */
function startInput(historyJson: string): { encoding: string; value: unknown } {
  const history = JSON.parse(historyJson) as {
    events: { workflowExecutionStartedEventAttributes?: { input: { payloads: JsonPayload[] } } }[];
  };
  const payload = history.events[0].workflowExecutionStartedEventAttributes!.input.payloads[0];
  const encoding = Buffer.from(payload.metadata.encoding, 'base64').toString();
  const data = Buffer.from(payload.data, 'base64').toString();
  return { encoding, value: encoding === 'json/plain' ? JSON.parse(data) : data };
}

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

describe('the payload codec on a real server', () => {
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

  it(
    'stores workflow and activity payloads encrypted while client and worker see plain values',
    async () => {
      const config = codecConfigSchema.parse({
        compress: true,
        encryption_key_id: 'test-key',
        encryption_keys: { 'test-key': randomBytes(32).toString('base64') },
      });
      const dataConverter = dataConverterFor(config);
      const [codec] = dataConverter.payloadCodecs ?? [];
      const taskQueue = uniqueId('codec');
      const seen: string[] = [];
      const activities: EchoActivities = {
        shout: async (input) => {
          seen.push(input);
          return input.toUpperCase();
        },
      };
      const worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        workflowsPath: require.resolve('../harness/workflows/echo'),
        activities,
        dataConverter,
      });
      const client = new Client({ connection, dataConverter });
      // Long and repetitive, like a scan plan, so the codec compresses before it encrypts.
      const input = `scan plan marker-${randomBytes(4).toString('hex')} `.repeat(40);

      const handle = await client.workflow.start('echo', {
        args: [input],
        taskQueue,
        workflowId: uniqueId('echo-codec'),
      });
      const result = await worker.runUntil(handle.result());

      expect(result).toBe(input.toUpperCase());
      expect(seen).toEqual([input]);
      const { events } = await handle.fetchHistory();
      const stored: Payload[] = [
        events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0],
        events?.find((e) => e.activityTaskScheduledEventAttributes)
          ?.activityTaskScheduledEventAttributes?.input?.payloads?.[0],
        events?.find((e) => e.workflowExecutionCompletedEventAttributes)
          ?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0],
      ].map((payload) => payload ?? {});
      const marker = input.slice(0, 30);
      for (const payload of stored) {
        expect(text(payload.metadata?.encoding)).toBe(ENCODING_ENCRYPTED);
        expect(text(payload.metadata?.[METADATA_KEY_ID])).toBe('test-key');
        expect(text(payload.metadata?.[METADATA_COMPRESSION])).toBe('zlib');
        expect(text(payload.data)).not.toContain(marker);
        expect(text(payload.data).toUpperCase()).not.toContain(marker.toUpperCase());
      }
      const [storedResult] = await codec.decode([stored[2]]);
      expect(defaultPayloadConverter.fromPayload(storedResult)).toBe(input.toUpperCase());
    },
    WORKFLOW_TEST_TIMEOUT_MS,
  );

  it(
    'leaves a client without the codec unable to read the result',
    async () => {
      const config = codecConfigSchema.parse({
        encryption_key_id: 'k1',
        encryption_keys: { k1: randomBytes(32).toString('base64') },
      });
      const dataConverter = dataConverterFor(config);
      const taskQueue = uniqueId('codec');
      const worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        workflowsPath: require.resolve('../harness/workflows/echo'),
        activities: {
          shout: async (input: string) => input.toUpperCase(),
        } satisfies EchoActivities,
        dataConverter,
      });
      const client = new Client({ connection, dataConverter });
      const plainClient = new Client({ connection });
      const workflowId = uniqueId('echo-codec');

      const handle = await client.workflow.start('echo', {
        args: ['short'],
        taskQueue,
        workflowId,
      });
      await worker.runUntil(handle.result());
      const plainRead = plainClient.workflow.getHandle(workflowId).result();

      await expect(plainRead).rejects.toThrow(/binary\/stoq-encrypted/);
    },
    WORKFLOW_TEST_TIMEOUT_MS,
  );

  withCli(
    'lets the temporal CLI show the history decoded through the codec server',
    async () => {
      const config = codecConfigSchema.parse({
        encryption_key_id: 'k1',
        encryption_keys: { k1: randomBytes(32).toString('base64') },
      });
      const dataConverter = dataConverterFor(config);
      const [codec] = dataConverter.payloadCodecs ?? [];
      const taskQueue = uniqueId('codec');
      const worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        workflowsPath: require.resolve('../harness/workflows/echo'),
        activities: {
          shout: async (input: string) => input.toUpperCase(),
        } satisfies EchoActivities,
        dataConverter,
      });
      const client = new Client({ connection, dataConverter });
      const server = await startCodecServer({
        port: 0,
        codec,
        allowedOrigins: [],
        authToken: 'tok',
      });
      const workflowId = uniqueId('echo-codec');
      const input = `cli marker ${randomBytes(4).toString('hex')}`;

      try {
        const handle = await client.workflow.start('echo', {
          args: [input],
          taskQueue,
          workflowId,
        });
        await worker.runUntil(handle.result());
        const show = (endpoint: string[]) =>
          promisify(execFile)(temporalCli!, [
            ...['workflow', 'show', '--workflow-id', workflowId, '--output', 'json'],
            ...['--address', testAddress(), ...endpoint],
          ]);
        const decoded = await show(['--codec-endpoint', server.url, '--codec-auth', 'Bearer tok']);
        const raw = await show([]);

        expect(startInput(decoded.stdout)).toEqual({ encoding: 'json/plain', value: input });
        expect(startInput(raw.stdout).encoding).toBe(ENCODING_ENCRYPTED);
        expect(raw.stdout).not.toContain(Buffer.from(JSON.stringify(input)).toString('base64'));
      } finally {
        await server.close();
      }
    },
    WORKFLOW_TEST_TIMEOUT_MS,
  );
});
