/** A plugin setup context for unit tests of the built-in plugins (silent logger, no store). */
import pino from 'pino';
import type { BlobStore } from '../../../src/blobstore/types';
import type { PluginSetupContext } from '../../../src/plugins/api';

export function createSetupContext(
  overrides: Partial<PluginSetupContext> = {},
): PluginSetupContext {
  return {
    logger: pino({ level: 'silent' }),
    stoqHome: '/nonexistent-stoq-home',
    blobStore: new Proxy({} as BlobStore, {
      get: () => () => Promise.reject(new Error('no blob store in unit tests')),
    }),
    ...overrides,
  };
}
