/**
 * The retry decision at the activity boundary. A plugin's ordinary exception stays
 * retryable (its retry policy decides); a plugin that cannot run here (not installed, bad
 * options, failed setup) or that says retrying cannot help (`PluginError` with
 * `retryable: false`) becomes a non-retryable failure, recorded at once.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { PluginError } from '../plugins/api';
import { PluginUnavailableError } from '../plugins/host';

export async function asPluginCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof PluginUnavailableError) {
      throw ApplicationFailure.nonRetryable(error.message, 'PluginUnavailable');
    }
    if (error instanceof PluginError && !error.retryable) {
      throw ApplicationFailure.nonRetryable(error.message, 'PluginError');
    }
    throw error;
  }
}
