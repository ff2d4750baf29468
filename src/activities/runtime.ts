/** What every activity of a worker process shares: the blob store, plugins and a logger. */
import type { BlobStore } from '../blobstore/types';
import type { Logger } from '../log';
import type { PluginHost } from '../plugins/host';

export interface ActivityRuntime {
  blobStore: BlobStore;
  plugins: PluginHost;
  logger: Logger;
}
