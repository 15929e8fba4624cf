import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { alarmForm, defaultFields, eventFrames, submitAlarm, waitForTerminal } from '../support/alarms.js';
import { repoRoot } from '../support/paths.js';
import { startStack, type TestStack } from '../support/stack.js';

/**
 * An ops engineer's path through the Temporal Web UI in a real browser (Debian's chromium): filter the
 * workflow list by VigilZoneId, find the job's workflow, open it. Screenshots go to test-output/.
 */

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const outputDir = path.join(repoRoot, 'test-output');
const UI_TIMEOUT_MS = 30_000;

describe('Temporal UI: a job found by its zone', () => {
  let stack: TestStack;
  let browser: Browser;

  before(async () => {
    // Never a silent skip: a machine without the browser fails and says how to get it.
    if (!existsSync(chromiumPath)) {
      throw new Error(`Chromium not found at ${chromiumPath}: install it with "apt-get update && apt-get install -y chromium" (.ci/run does this on CI).`);
    }
    [stack, browser] = await Promise.all([
      startStack({ temporalUi: true }),
      chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs }),
    ]);
    await mkdir(outputDir, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test("filtering by VigilZoneId lists only that zone's workflow, which opens as completed", async (t) => {
    const token = await stack.createToken('acme');
    const frames = await eventFrames('pets2009_people_walking_a');
    const suffix = Math.random().toString(36).slice(2, 8);
    const [wanted, other] = await Promise.all(
      [`ui_zone_${suffix}`, `ui_other_${suffix}`].map(async (zone) => {
        const submitted = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields({ zone_id: zone }), frames));
        assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
        return { zone, jobId: submitted.body.data.job_id };
      }),
    );
    for (const { jobId } of [wanted!, other!]) assert.equal((await waitForTerminal(stack.baseUrl, token, jobId)).status, 'finished');

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(`${stack.temporalUiUrl}/namespaces/${stack.config.temporal.namespace}/workflows`);
    // Both jobs are listed before the filter: the filter is what hides the other one.
    await page.getByRole('link', { name: other!.jobId, exact: true }).waitFor();

    await page.getByTestId('toggle-manual-query').click();
    await page.getByTestId('manual-search-input').fill(`VigilZoneId = "${wanted!.zone}"`);
    await page.getByTestId('manual-search-button').click();
    await page.waitForURL(/[?&]query=/);
    await page.getByRole('link', { name: other!.jobId, exact: true }).waitFor({ state: 'detached' });
    const jobLink = page.getByRole('link', { name: wanted!.jobId, exact: true });
    await jobLink.waitFor();
    assert.equal(await page.getByRole('checkbox', { name: /^Select Workflow / }).count(), 1, 'one workflow in the filtered list');
    const listScreenshot = path.join(outputDir, 'temporal-ui-filtered-list.png');
    await page.screenshot({ path: listScreenshot });

    await jobLink.click();
    await page.waitForURL(new RegExp(`/workflows/${wanted!.jobId}/`));
    await page.getByText('Completed', { exact: true }).first().waitFor();
    await page.getByText(wanted!.jobId).first().waitFor();
    const workflowScreenshot = path.join(outputDir, 'temporal-ui-workflow.png');
    await page.screenshot({ path: workflowScreenshot, fullPage: true });

    t.diagnostic(`screenshots: ${listScreenshot} and ${workflowScreenshot}`);
  });
});
