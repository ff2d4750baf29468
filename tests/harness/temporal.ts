/** What integration tests need to reach the server the global setup provided. */
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ADDRESS_ENV } from './server';

/** The test server's gRPC address, `host:port`. */
export function testAddress(): string {
  const address = process.env[ADDRESS_ENV];
  if (!address) {
    throw new Error(
      `${ADDRESS_ENV} is not set: run integration tests through jest's integration project ` +
        '(npx jest --selectProjects integration), whose global setup starts a Temporal server',
    );
  }
  return address;
}

/** A client connection to the test server; the caller closes it. */
export function newConnection(): Promise<Connection> {
  return Connection.connect({ address: testAddress() });
}

/** A worker connection to the test server; the caller closes it after the worker stops. */
export function newNativeConnection(): Promise<NativeConnection> {
  return NativeConnection.connect({ address: testAddress() });
}

/** A workflow id (or task queue name) no other test and no earlier run has used. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}
