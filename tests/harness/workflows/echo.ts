/** The smallest workflow that still needs a worker, an activity and the server: one round trip. */
import { proxyActivities } from '@temporalio/workflow';

/** The activity the echo workflow calls; each test supplies its own implementation. */
export interface EchoActivities {
  shout(text: string): Promise<string>;
}

const { shout } = proxyActivities<EchoActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

export async function echo(text: string): Promise<string> {
  return await shout(text);
}
